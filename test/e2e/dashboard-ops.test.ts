/**
 * Dashboard (headless Chromium): the projections and subscriptions panel — rows, lag, and a progress bar
 * while a projection rebuilds.
 */
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProjectionDefinition } from '../../src/events/projections/types.js';
import type { DurableSubscription } from '../../src/events/subscriptions/durable/types.js';
import type { Subscription } from '../../src/events/subscriptions/types.js';
import { chromiumAvailable } from '../helpers/chromium.js';
import { useDashboard, waitForPanel } from '../helpers/dashboard-page.js';
import { startFoundationBus } from '../helpers/foundation-bus.js';

const hasChromium = chromiumAvailable('dashboard-ops.test');

const EVENTS = 20_000;

/**
 * While `held`, each event costs some CPU: a rebuild then lasts until the test releases it, long past the
 * page's polling interval. The fold's result does not depend on it.
 */
const gate = { held: false };

function load(): void {
  if (!gate.held) return;
  const until = performance.now() + 0.5;
  while (performance.now() < until) {
    // busy: a slow evolve
  }
}

const PROJECTION: ProjectionDefinition = {
  name: 'order-counts',
  filter: { types: ['order.*'] },
  key: (event) => event.stream ?? undefined,
  initial: () => 0,
  evolve: (state) => {
    load();
    return (state as number) + 1;
  },
  mode: 'async',
};

function row(page: Page, kind: 'projection' | 'subscription', name: string) {
  return page.locator(`tr[data-${kind}="${name}"]`);
}

describe.skipIf(!hasChromium)('dashboard: projections and subscriptions panel (headless Chromium)', () => {
  let live: Subscription | undefined;
  let durable: DurableSubscription | undefined;

  const dashboard = useDashboard(
    () => startFoundationBus({ name: 'ops-dash', store: 'memory:', projections: [PROJECTION] }),
    async ({ foundation }) => {
      for (let start = 0; start < EVENTS; start += 1000) {
        await foundation.events.append(
          Array.from({ length: 1000 }, (_, i) => ({
            type: 'order.placed',
            stream: `order-${(start + i) % 7}`,
          })),
        );
      }
      await foundation.projections.waitFor('order-counts', EVENTS);
      // a live subscription that reads nothing: its lag is the whole log
      live = foundation.events.subscribe(
        { types: ['order.*'] },
        { from: 'start', name: 'idle-reader', bufferSize: 16 },
      );
      durable = foundation.durable({
        name: 'mailer',
        filter: { types: ['mail.*'] },
        handler: () => undefined,
      });
      await durable.start();
    },
  );
  // registered after the dashboard's: runs before it closes the browser and stops the node
  afterAll(async () => {
    gate.held = false;
    await live?.close();
  });

  it('lists projections and subscriptions with lag, and shows a progress bar while a projection rebuilds', async () => {
    const foundation = dashboard.running.foundation;
    const { page, consoleErrors } = await dashboard.open();

    await waitForPanel(page, 'ops-panel');
    const projection = row(page, 'projection', 'order-counts');
    await expect.poll(() => projection.getByTestId('projection-state').textContent()).toBe('running');
    expect(await projection.getByTestId('projection-mode').textContent()).toBe('async');
    expect(await projection.getByTestId('projection-position').textContent()).toBe(String(EVENTS));
    expect(await projection.getByTestId('projection-rebuild').textContent()).toBe('—');
    expect(await projection.getByTestId('projection-progress').count()).toBe(0);

    const idle = row(page, 'subscription', 'idle-reader');
    await expect.poll(() => idle.getByTestId('subscription-kind').textContent()).toBe('live');
    const lag = Number(await idle.getByTestId('subscription-lag').textContent());
    expect(lag).toBeGreaterThan(1000);
    expect(await idle.getByTestId('subscription-lag').getAttribute('class')).toContain('lagging');
    const mailer = row(page, 'subscription', 'mailer');
    expect(await mailer.getByTestId('subscription-kind').textContent()).toBe('durable');
    expect(await mailer.getByTestId('subscription-state').textContent()).toBe(durable?.status().state);
    expect(await page.getByTestId('ops-summary').textContent()).toMatch(
      /^1 projection · \d+ subscriptions \(1 lagging\)/,
    );

    // a slow rebuild: the page shows it rebuilding with a progress bar towards the target
    gate.held = true;
    try {
      const started = await foundation.projections.rebuild('order-counts');
      expect(started.state).toBe('rebuilding');
      // The page polls every 2 s (0.5 s once it has seen a rebuild): wait for its next poll.
      await expect
        .poll(() => projection.getByTestId('projection-state').textContent(), { timeout: 30_000 })
        .toBe('rebuilding');
      const bar = projection.getByTestId('projection-progress');
      await expect.poll(() => bar.count(), { timeout: 30_000 }).toBe(1);
      expect(await bar.getAttribute('max')).toBe(String(EVENTS));
      const value = Number(await bar.getAttribute('value'));
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(EVENTS);
      expect(await projection.getByTestId('projection-progress-label').textContent()).toMatch(
        new RegExp(`^\\d+ / ${EVENTS} \\(\\d{1,3}%\\)$`),
      );
      expect(await page.getByTestId('ops-summary').textContent()).toContain('(1 rebuilding)');
      await page.screenshot({ path: '/tmp/foundation-dashboard-ops.png', fullPage: true });
    } finally {
      gate.held = false;
    }
    // released: the rebuild finishes and the bar goes away
    await expect
      .poll(() => projection.getByTestId('projection-state').textContent(), { timeout: 30_000 })
      .toBe('running');
    expect(await projection.getByTestId('projection-progress').count()).toBe(0);
    expect(await projection.getByTestId('projection-position').textContent()).toBe(String(EVENTS));
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
