/**
 * Dashboard (headless Chromium): the rate limits and pools of the protection panel, from the same poll of
 * `/api/protection` — every limiter with its rule, store, users, key count and most constrained keys
 * (remaining, retry-after), every pool with its counts; a caller's key that looks like HTML renders as text.
 * The foundation runs on a fake clock, so every number shown is exact.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/index.js';
import { chromiumAvailable } from '../helpers/chromium.js';
import { cellTexts, useDashboard, waitForPanel } from '../helpers/dashboard-page.js';
import { startFoundationBus } from '../helpers/foundation-bus.js';
import { LIMITS_PROTECTION, provideDbPool } from '../helpers/limits-scenario.js';

const hasChromium = chromiumAvailable('dashboard-limits.test');

/** Generous: the panel polls every 3 s on a machine shared by several workers. */
const POLL = { timeout: 30_000 } as const;

/** A caller's key that would run script if it were written as HTML. */
const EVIL_KEY = '<img src=x onerror="window.__pwned=1">';

describe.skipIf(!hasChromium)('dashboard: rate limits and pools (headless Chromium)', () => {
  const dashboard = useDashboard(() =>
    startFoundationBus(
      {
        name: 'limits-dash',
        store: 'memory:',
        clock: new FakeClock(),
        config: { defaults: { foundation: { protection: LIMITS_PROTECTION } } },
      },
      { prepare: provideDbPool },
    ),
  );

  it('shows limiters with their most constrained keys and pools with their counts, as text', async () => {
    const node = dashboard.running.foundation;
    const api = node.protect('api');
    await api.execute(() => 1, { key: 'user-1' });
    await api.execute(() => 2, { key: 'user-1' });
    await api.execute(() => 3, { key: 'user-1' }).catch(() => undefined);
    await api.execute(() => 4, { key: EVIL_KEY });
    await node.protection.rateLimiter('api').hold('held', 5000);
    await node.protect('github').execute(() => 5, { key: 'octo' });
    let release = (): void => undefined;
    const held = node.protect('db').execute(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    await expect.poll(() => node.protection.pool('db').status().inUse).toBe(1);

    const { page, consoleErrors } = await dashboard.open();
    await waitForPanel(page, 'protection-panel');

    const rows = page.getByTestId('limits-row');
    const cells = (row: number) => cellTexts(rows.nth(row));
    expect(await rows.count()).toBe(4);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-limiter')))).toEqual([
      'rule:api_calls',
      'rule:db_queries',
      'rule:file_operations',
      'policy:api',
    ]);
    expect(await cells(0)).toEqual([
      'rule:api_calls',
      'token_bucket 100/1m',
      'memory',
      'github',
      '1',
      'octo 99 left',
    ]);
    expect(await cells(1)).toEqual(['rule:db_queries', 'token_bucket 500/1m', 'memory', '—', '0', '—']);
    expect(await cells(2)).toEqual(['rule:file_operations', 'token_bucket 10/1s', 'memory', '—', '0', '—']);
    // the most constrained first: nothing left and the longest retry-after, then nothing left, then the rest
    const apiRow = page.locator('[data-testid="limits-row"][data-limiter="policy:api"]');
    expect(await apiRow.getByTestId('limit-key').allTextContents()).toEqual([
      'user-1 0 left · retry in 30s',
      'held 0 left · retry in 5s',
      `${EVIL_KEY} 1 left`,
    ]);
    expect(await cells(3)).toEqual([
      'policy:api',
      'token_bucket 2/1m',
      'memory',
      'api',
      '3',
      `user-1 0 left · retry in 30sheld 0 left · retry in 5s${EVIL_KEY} 1 left`,
    ]);
    // the key is text: no element was made of it, no script ran
    expect(await apiRow.getByTestId('limit-key-name').allTextContents()).toEqual([
      'user-1',
      'held',
      EVIL_KEY,
    ]);
    expect(await page.locator('[data-testid="protection-panel"] img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.getByTestId('limits-summary').textContent()).toBe(
      '4 limiters (2 keys exhausted) · first 20 keys of each',
    );

    // the policies table shows the rate-limit and pool layers too
    expect(
      await page
        .locator('[data-testid="protection-row"][data-policy="api"]')
        .getByTestId('protection-layers')
        .textContent(),
    ).toBe('rateLimit token_bucket 2/1m (own) · 3 admitted · 1 refused');
    expect(
      await page
        .locator('[data-testid="protection-row"][data-policy="github"]')
        .getByTestId('protection-layers')
        .textContent(),
    ).toBe('rateLimit api_calls (shared) · 1 admitted · 0 refused');
    const dbLayers = page
      .locator('[data-testid="protection-row"][data-policy="db"]')
      .getByTestId('protection-layers');
    expect(await dbLayers.textContent()).toBe('pool 1/2 in use · 0 waiting');

    const pool = page.locator('[data-testid="pools-row"][data-policy="db"]');
    expect(await page.getByTestId('pools-row').count()).toBe(1);
    expect(await pool.locator('td').allTextContents()).toEqual(['db', '1 / 1 / 2', '0', '0', '—']);
    expect(await page.getByTestId('pools-summary').textContent()).toBe('1 pool');

    // an operator's reset and a returned resource show on the next polls
    await node.protection.rateLimiter('api').reset('user-1');
    await node.protection.rateLimiter('api').reset('held');
    release();
    await held;
    await expect
      .poll(() => apiRow.getByTestId('limit-key').allTextContents(), POLL)
      .toEqual([`${EVIL_KEY} 1 left`]);
    expect(await apiRow.getByTestId('limits-count').textContent()).toBe('1');
    await expect
      .poll(() => pool.locator('td').allTextContents(), POLL)
      .toEqual(['db', '0 / 1 / 2', '1', '0', '—']);
    expect(await dbLayers.textContent()).toBe('pool 0/2 in use · 0 waiting');
    expect(await page.getByTestId('limits-summary').textContent()).toBe('4 limiters · first 20 keys of each');

    await page.screenshot({ path: '/tmp/foundation-dashboard-limits.png', fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
