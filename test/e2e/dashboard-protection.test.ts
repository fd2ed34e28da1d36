/**
 * Dashboard (headless Chromium): the protection panel — every named policy with its breaker state
 * (colour-coded) and its layers' live state (bulkhead occupancy), refreshed by polling as breakers open,
 * are isolated and reset and calls come and go.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../src/app/foundation.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../src/server/index.js';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';

const hasChromium = chromiumAvailable('dashboard-protection.test');

/** Generous: the panel polls every 3 s on a machine shared by several workers. */
const POLL = { timeout: 30_000 } as const;

describe.skipIf(!hasChromium)('dashboard: protection panel (headless Chromium)', () => {
  let browser: Browser | undefined;
  let foundation: Foundation | undefined;
  let url = '';

  beforeAll(async () => {
    browser = await launchChromium();
    foundation = createFoundation({
      name: 'protection-dash',
      store: 'memory:',
      config: {
        defaults: {
          foundation: {
            protection: {
              payments: { breaker: { policy: 'consecutive', threshold: 2, openMs: 600_000 } },
              pool: { bulkhead: { maxConcurrent: 2, maxQueue: 1 } },
            },
          },
        },
      },
    });
    foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0 }));
    await foundation.start();
    url = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE).url;
  });
  afterAll(async () => {
    await browser?.close();
    await foundation?.stop();
  });

  it('shows each policy with its breaker state and layer occupancy, and follows changes', async () => {
    if (browser === undefined || foundation === undefined) throw new Error('setup failed');
    const node = foundation;
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(url);

    await expect.poll(() => page.getByTestId('protection-panel').getAttribute('data-state')).toBe('loaded');
    const rows = page.getByTestId('protection-row');
    expect(await rows.count()).toBe(2);
    const payments = page.locator('[data-testid="protection-row"][data-policy="payments"]');
    const pool = page.locator('[data-testid="protection-row"][data-policy="pool"]');
    expect(await payments.getAttribute('data-breaker')).toBe('closed');
    const badge = payments.getByTestId('protection-breaker');
    expect(await badge.textContent()).toBe('closed');
    const closedColour = await badge.evaluate((node) => getComputedStyle(node).color);
    expect(await pool.getAttribute('data-breaker')).toBe('none');
    expect(await pool.getByTestId('protection-layers').textContent()).toBe(
      'bulkhead 0/2 running · 0/1 queued',
    );

    // two real failures open the breaker; one call held in the bulkhead shows as running
    for (let i = 0; i < 2; i += 1) {
      await node
        .protect('payments')
        .execute(() => Promise.reject(new Error('down')))
        .catch(() => undefined);
    }
    let release = (): void => undefined;
    const held = node.protect('pool').execute(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    await expect.poll(() => payments.getAttribute('data-breaker'), POLL).toBe('open');
    expect(await badge.textContent()).toBe('open');
    expect(await badge.evaluate((node) => getComputedStyle(node).color)).not.toBe(closedColour);
    expect(await payments.getByTestId('protection-layers').textContent()).toMatch(
      /^breaker 2\/2 failed · half-opens in \d+m \d\ds$/,
    );
    await expect
      .poll(() => pool.getByTestId('protection-layers').textContent(), POLL)
      .toBe('bulkhead 1/2 running · 0/1 queued');
    expect(await page.getByTestId('protection-summary').textContent()).toMatch(
      /^2 policies \(1 breaker not closed\) · updated /,
    );

    // an operator's isolate and reset (made elsewhere) show on the next polls
    node.protection.breaker('payments').isolate();
    await expect.poll(() => payments.getAttribute('data-breaker'), POLL).toBe('isolated');
    node.protection.breaker('payments').reset();
    release();
    await held;
    await expect.poll(() => payments.getAttribute('data-breaker'), POLL).toBe('closed');
    await expect
      .poll(() => pool.getByTestId('protection-layers').textContent(), POLL)
      .toBe('bulkhead 0/2 running · 0/1 queued');
    expect(await badge.evaluate((node) => getComputedStyle(node).color)).toBe(closedColour);

    await page.screenshot({ path: '/tmp/foundation-dashboard-protection.png', fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
