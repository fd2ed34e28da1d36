import type { Browser, Page } from 'playwright-core';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceContext } from '../../src/kernel/service.js';
import { startControlBus, testService, type RunningControlBus } from '../helpers/control-bus.js';
import { freePort } from '../helpers/ports.js';

const hasChromium = chromiumAvailable('dashboard.test');

/** The text of a cell of the row of `service`. */
function cell(page: Page, service: string, testId: string) {
  return page.locator(`tr[data-service="${service}"] [data-testid="${testId}"]`);
}

describe.skipIf(!hasChromium)('dashboard (headless Chromium)', () => {
  let browser: Browser | undefined;
  let running: RunningControlBus | undefined;
  let healthy = true;
  let workerContext: ServiceContext | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
    running = await startControlBus({
      name: 'dash-node',
      services: [
        testService('db', {
          health: () =>
            healthy ? { status: 'healthy' } : { status: 'unhealthy', message: 'connection refused' },
        }),
        testService('cache', { dependencies: ['db'] }),
      ],
      bus: { streamRefreshMs: 200 },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.[Symbol.asyncDispose]();
  });

  it('renders the node and one row per service with state and health, then follows changes live', async () => {
    if (browser === undefined || running === undefined) throw new Error('setup failed');
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.goto(running.url);

    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('connected');
    await expect.poll(() => page.getByTestId('node-name').textContent()).toBe('dash-node');
    expect(await page.getByTestId('node-state').textContent()).toBe('running');
    expect(await page.getByTestId('node-rss').textContent()).toMatch(/^\d+(\.\d)? (KiB|MiB|GiB)$/);
    expect(await page.title()).toBe('dash-node · Foundation');

    const rows = page.getByTestId('service-row');
    await expect.poll(() => rows.count()).toBe(7);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-service')))).toEqual([
      'storage',
      'config',
      'events',
      'projections',
      'db',
      'cache',
      'control-bus',
    ]);
    for (const name of ['storage', 'config', 'events', 'projections', 'db', 'cache', 'control-bus']) {
      expect(await cell(page, name, 'service-state').textContent()).toBe('running');
      expect(await cell(page, name, 'service-health').textContent()).toMatch(/^healthy/);
      expect(await cell(page, name, 'service-restarts').textContent()).toBe('0');
      expect(await cell(page, name, 'service-error').textContent()).toBe('—');
    }
    expect(await cell(page, 'cache', 'service-deps').textContent()).toBe('db');
    expect(await cell(page, 'db', 'service-deps').textContent()).toBe('—');
    expect(await cell(page, 'events', 'service-deps').textContent()).toBe('storage');

    await page.screenshot({ path: '/tmp/foundation-dashboard.png', fullPage: true });

    // a service added while the page is open appears without a reload
    running.foundation.add(
      {
        name: 'worker',
        dependencies: ['db'],
        start: (ctx) => {
          workerContext = ctx;
          return 'worker';
        },
        stop: () => undefined,
      },
      { restart: 'temporary' },
    );
    await expect.poll(() => cell(page, 'worker', 'service-state').textContent()).toBe('running');
    expect(await rows.count()).toBe(8);

    // a failing service shows its state and last error
    workerContext!.fail(new Error('queue connection lost'));
    await expect.poll(() => cell(page, 'worker', 'service-state').textContent()).toBe('failed');
    expect(await cell(page, 'worker', 'service-error').textContent()).toContain('queue connection lost');

    // an unhealthy health check shows up through the periodic refresh
    healthy = false;
    await expect
      .poll(() => cell(page, 'db', 'service-health').textContent())
      .toBe('unhealthyconnection refused');
    expect(await page.getByTestId('node-health').textContent()).toBe('unhealthy (not ready)');
    healthy = true;
    await expect.poll(() => cell(page, 'db', 'service-health').textContent()).toBe('healthy');

    await page.screenshot({ path: '/tmp/foundation-dashboard-failure.png', fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('lists recent events (latest first) and shows new ones live', async () => {
    if (browser === undefined || running === undefined) throw new Error('setup failed');
    const events = running.foundation.events;
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    try {
      await page.goto(running.url);
      await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('connected');
      await expect.poll(() => page.getByTestId('events-body').textContent()).toBe('No events yet.');

      const first = await events.append(
        [
          { type: 'order.created', stream: 'order-7', data: { total: 5 }, correlationId: 'corr-dash' },
          { type: 'order.paid', stream: 'order-7', data: { total: 5 }, correlationId: 'corr-dash' },
        ],
        { expectedVersion: 'no_stream' },
      );
      const eventRows = page.getByTestId('event-row');
      await expect.poll(() => eventRows.count()).toBe(2);
      // latest first: position desc
      expect(await page.getByTestId('event-type').allTextContents()).toEqual(['order.paid', 'order.created']);
      expect(await page.getByTestId('event-stream').allTextContents()).toEqual(['order-7@2', 'order-7@1']);
      expect(await page.getByTestId('event-correlation').allTextContents()).toEqual([
        'corr-dash',
        'corr-dash',
      ]);
      expect(await page.getByTestId('event-position').allTextContents()).toEqual(
        first.events.map((e) => String(e.position)).reverse(),
      );
      expect(await page.getByTestId('event-time').first().textContent()).not.toBe('');

      // an event without a stream, appended while the page is open, appears on top without a reload
      const later = await events.append({ type: 'user.signed_in', data: { user: 'ada' } });
      await expect.poll(() => page.getByTestId('event-type').first().textContent()).toBe('user.signed_in');
      expect(await page.getByTestId('event-stream').first().textContent()).toBe('—');
      expect(await eventRows.first().getAttribute('data-event-id')).toBe(later.events[0]?.id);

      // at most 50 rows: the latest ones
      await events.append(Array.from({ length: 60 }, (_, i) => ({ type: 'bulk.item', data: { i } })));
      await expect
        .poll(() => page.getByTestId('event-position').first().textContent())
        .toBe(String(later.position + 60));
      expect(await eventRows.count()).toBe(50);
      expect(await page.getByTestId('event-position').last().textContent()).toBe(String(later.position + 11));
      await page.screenshot({ path: '/tmp/foundation-dashboard-events.png', fullPage: true });
      expect(consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows "disconnected" when the stream drops and reconnects when the bus is back', async () => {
    if (browser === undefined) throw new Error('setup failed');
    const port = await freePort();
    const local = await startControlBus({ name: 'flaky-node', services: [testService('db')], bus: { port } });
    const page = await browser.newPage();
    try {
      await page.goto(local.url);
      await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('connected');
      await expect.poll(() => page.getByTestId('node-name').textContent()).toBe('flaky-node');

      // stop the foundation (and its bus): the stream drops, the page stays
      await local.foundation.stop();
      await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('disconnected');
      expect(await page.getByTestId('connection-label').textContent()).toMatch(/^disconnected/);

      // start it again on the same port: the page reconnects by itself
      await local.foundation.start();
      await expect
        .poll(() => page.getByTestId('connection').getAttribute('data-state'), { timeout: 20_000 })
        .toBe('connected');
      await expect.poll(() => page.getByTestId('service-row').count()).toBe(6);
    } finally {
      await page.close();
      await local[Symbol.asyncDispose]();
    }
  });
});
