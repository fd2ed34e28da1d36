import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../helpers/chromium.js';
import { startControlBus } from '../helpers/control-bus.js';
import { useDashboard } from '../helpers/dashboard-page.js';

const hasChromium = chromiumAvailable('dashboard-tail.test');

const types = (page: Page): Promise<string[]> => page.getByTestId('event-type').allTextContents();

describe.skipIf(!hasChromium)('dashboard live event tail (headless Chromium)', () => {
  const dashboard = useDashboard(() => startControlBus({ name: 'tail-dash', store: 'sqlite::memory:' }));

  it('shows appended events live without a reload, filters by type, pauses and resumes', async () => {
    const running = dashboard.running;
    const events = running.foundation.events;
    await events.append({ type: 'order.created', stream: 'order-1', data: { total: 1 } });
    const { page, consoleErrors: problems } = await dashboard.open();
    try {
      const tail = page.getByTestId('events-tail');
      await expect.poll(() => tail.getAttribute('data-state')).toBe('live');
      await expect.poll(() => types(page)).toEqual(['order.created']);
      // the page holds one event stream (one subscription on the server)
      await expect.poll(() => running.bus.eventStreams().length).toBe(1);

      // appended while the page is open: appears on top, no reload
      const paid = await events.append({
        type: 'order.paid',
        stream: 'order-1',
        data: { total: 1 },
        correlationId: 'corr-live',
      });
      await expect.poll(() => types(page)).toEqual(['order.paid', 'order.created']);
      const top = page.getByTestId('event-row').first();
      expect(await top.getAttribute('data-event-id')).toBe(paid.events[0]?.id);
      expect(await page.getByTestId('event-stream').first().textContent()).toBe('order-1@2');
      expect(await page.getByTestId('event-correlation').first().textContent()).toBe('corr-live');
      expect(await page.getByTestId('events-summary').textContent()).toBe(
        `live · latest position ${paid.position}`,
      );

      // a type filter: only matching events, old and new
      await events.append({ type: 'user.signed_in', data: { user: 'ada' } });
      await expect.poll(() => types(page)).toEqual(['user.signed_in', 'order.paid', 'order.created']);
      await page.getByTestId('events-filter').fill('user.*');
      await page.getByTestId('events-filter').press('Enter');
      await expect.poll(() => types(page)).toEqual(['user.signed_in']);
      await events.append([
        { type: 'order.shipped', stream: 'order-1', data: {} },
        { type: 'user.signed_out', data: { user: 'ada' } },
      ]);
      await expect.poll(() => types(page)).toEqual(['user.signed_out', 'user.signed_in']);
      // the old stream was closed when the filter changed
      await expect.poll(() => running.bus.eventStreams().length).toBe(1);

      // a bad filter is reported, not streamed
      await page.getByTestId('events-filter').fill('user..x');
      await page.getByTestId('events-filter').press('Enter');
      await expect.poll(() => tail.getAttribute('data-state')).toBe('error');
      expect(await page.getByTestId('events-summary').textContent()).toMatch(/^invalid filter: /);
      expect(await page.getByTestId('events-filter').getAttribute('aria-invalid')).toBe('true');
      await page.getByTestId('events-filter').fill('');
      await page.getByTestId('events-filter').press('Enter');
      await expect
        .poll(() => types(page))
        .toEqual(['user.signed_out', 'order.shipped', 'user.signed_in', 'order.paid', 'order.created']);

      // pause: the stream closes and the list stays still; resume: what was missed shows up
      await page.getByTestId('events-pause').click();
      await expect.poll(() => tail.getAttribute('data-state')).toBe('paused');
      expect(await page.getByTestId('events-pause').textContent()).toBe('Resume');
      await expect.poll(() => running.bus.eventStreams().length).toBe(0);
      await events.append({ type: 'while.paused', data: {} });
      // no stream is open on the server, so nothing can move the list while paused
      expect(running.bus.eventStreams()).toHaveLength(0);
      expect((await types(page))[0]).toBe('user.signed_out');
      await page.getByTestId('events-pause').click();
      expect(await page.getByTestId('events-pause').textContent()).toBe('Pause');
      await expect.poll(() => types(page).then((t) => t[0])).toBe('while.paused');
      await expect.poll(() => tail.getAttribute('data-state')).toBe('live');
      await events.append({ type: 'after.resume', data: {} });
      await expect
        .poll(() => types(page).then((t) => t.slice(0, 2)))
        .toEqual(['after.resume', 'while.paused']);

      // bounded: at most 50 rows, the latest ones, for a burst of events
      const burst = await events.append(
        Array.from({ length: 120 }, (_, i) => ({ type: 'bulk.item', data: { i } })),
      );
      await expect
        .poll(() => page.getByTestId('event-position').first().textContent())
        .toBe(String(burst.position));
      expect(await page.getByTestId('event-row').count()).toBe(50);
      expect(await page.getByTestId('event-position').last().textContent()).toBe(String(burst.position - 49));
      await page.screenshot({ path: '/tmp/foundation-dashboard-tail.png', fullPage: true });
      // the browser logs the refused bad filter (400) itself; nothing else went wrong
      expect(problems).toEqual([
        'Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ]);
    } finally {
      await page.close();
    }
    // the page is gone: so is its subscription
    await expect.poll(() => running.bus.eventStreams().length).toBe(0);
  }, 120_000);
});
