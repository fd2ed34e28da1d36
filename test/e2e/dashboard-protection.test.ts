/**
 * Dashboard (headless Chromium): the protection panel — every named policy with its breaker state
 * (colour-coded) and its layers' live state (bulkhead occupancy), refreshed by polling as breakers open,
 * are isolated and reset and calls come and go.
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../helpers/chromium.js';
import { useDashboard, waitForPanel } from '../helpers/dashboard-page.js';
import { startFoundationBus } from '../helpers/foundation-bus.js';

const hasChromium = chromiumAvailable('dashboard-protection.test');

/** Generous: the panel polls every 3 s on a machine shared by several workers. */
const POLL = { timeout: 30_000 } as const;

describe.skipIf(!hasChromium)('dashboard: protection panel (headless Chromium)', () => {
  const dashboard = useDashboard(() =>
    startFoundationBus({
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
    }),
  );

  it('shows each policy with its breaker state and layer occupancy, and follows changes', async () => {
    const node = dashboard.running.foundation;
    const { page, consoleErrors } = await dashboard.open();

    await waitForPanel(page, 'protection-panel');
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
