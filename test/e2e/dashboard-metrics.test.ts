/**
 * Dashboard (headless Chromium): the Metrics panel — small inline-SVG charts of the in-memory series
 * (request rate, 5xx rate, latency p99, event-loop delay p99, heap used, events appended), polled from
 * `/api/metrics/series`; a chart without points says "no data".
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../helpers/chromium.js';
import { useDashboard, waitForPanel } from '../helpers/dashboard-page.js';
import { startFoundationBus } from '../helpers/foundation-bus.js';

const hasChromium = chromiumAvailable('dashboard-metrics.test');

/** Charts poll every 3 s and the recorder samples on the real clock: wait generously. */
const WAIT = { timeout: 30_000, interval: 200 } as const;

describe.skipIf(!hasChromium)('dashboard: metrics panel (headless Chromium)', () => {
  const dashboard = useDashboard(() =>
    startFoundationBus({
      name: 'metrics-dash',
      store: 'memory:',
      config: {
        defaults: {
          // The series keep one point per second (the last sample of each second): sample at 1 s as in
          // production; the runtime sampler may run faster.
          foundation: { telemetry: { runtime: { intervalMs: 200 } } },
        },
      },
    }),
  );

  it('draws the request-rate and heap charts with points, and "no data" where there is none', async () => {
    const { foundation, url } = dashboard.running;
    const { page, consoleErrors } = await dashboard.open();
    for (let i = 0; i < 5; i += 1) expect((await fetch(new URL('/api/status', url))).status).toBe(200);

    await waitForPanel(page, 'metrics-panel', WAIT);
    const chart = (id: string) => page.locator(`[data-testid="metric-chart"][data-chart="${id}"]`);
    expect(await page.getByTestId('metric-chart').count()).toBe(6);

    // Requests (the page's own polls and ours) and the heap: points drawn as an SVG path.
    for (const id of ['requests', 'heap']) {
      await expect
        .poll(async () => Number(await chart(id).getAttribute('data-points')), WAIT)
        .toBeGreaterThan(1);
      expect(await chart(id).getAttribute('data-state')).toBe('data');
      expect(await chart(id).getByTestId('chart-line').getAttribute('d')).toMatch(
        /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/,
      );
      expect(await chart(id).getByTestId('chart-empty').isVisible()).toBe(false);
    }
    expect(await chart('requests').getByTestId('chart-value').textContent()).toMatch(/^\d+(\.\d+)? req\/s$/);
    // The page's polls make requests every few seconds: some point is above 0.
    await expect
      .poll(() => chart('requests').getByTestId('chart-max').textContent(), WAIT)
      .toMatch(/^max (?!0\.00)\d+(\.\d+)? req\/s$/);
    expect(await chart('heap').getByTestId('chart-value').textContent()).toMatch(
      /^\d+(\.\d)? (KiB|MiB|GiB)$/,
    );
    // No 5xx: a flat line at 0 over the same sample times.
    await expect.poll(() => chart('errors').getAttribute('data-state'), WAIT).toBe('data');
    expect(await chart('errors').getByTestId('chart-value').textContent()).toBe('0.00 req/s');
    await expect.poll(() => chart('event-loop').getAttribute('data-state'), WAIT).toBe('data');
    expect(await chart('event-loop').getByTestId('chart-value').textContent()).toMatch(/ ms$/);

    // Nothing appended yet: "no data"; after appends, the rate shows.
    expect(await chart('appends').getAttribute('data-state')).toBe('empty');
    expect(await chart('appends').getByTestId('chart-empty').isVisible()).toBe(true);
    expect(await chart('appends').getByTestId('chart-empty').textContent()).toBe('no data');
    for (let i = 0; i < 3; i += 1) {
      await foundation.events.append([{ type: 'order.created', stream: `order-${i}`, data: { total: i } }]);
    }
    await expect.poll(() => chart('appends').getAttribute('data-state'), WAIT).toBe('data');

    await page.screenshot({ path: '/tmp/foundation-dashboard-metrics.png', fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
