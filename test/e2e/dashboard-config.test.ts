/**
 * Dashboard (headless Chromium): the configuration panel — the current version and the latest ten changes,
 * refreshed by polling, secrets never shown.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { chromiumAvailable } from '../helpers/chromium.js';
import { useDashboard, waitForPanel } from '../helpers/dashboard-page.js';
import { startFoundationBus } from '../helpers/foundation-bus.js';

const hasChromium = chromiumAvailable('dashboard-config.test');

const SECRET = 'sk-dashboard-secret';

const schema = z.object({
  app: z
    .object({
      apiKey: z.string().default('initial-secret'),
      limits: z.object({ rps: z.number().int().min(1).default(100) }).prefault({}),
    })
    .prefault({}),
});

describe.skipIf(!hasChromium)('dashboard: configuration panel (headless Chromium)', () => {
  const dashboard = useDashboard(
    () =>
      startFoundationBus({
        name: 'config-dash',
        store: 'memory:',
        config: { schema, mutable: ['app.**'], secrets: ['app.apiKey'] },
      }),
    async ({ foundation }) => {
      for (let i = 1; i <= 11; i += 1) {
        await foundation.config.update('app.limits.rps', 100 + i, { actor: 'tester', reason: `step ${i}` });
      }
      await foundation.config.update('app.apiKey', SECRET, { actor: 'rotator' });
    },
  );

  it('shows the version and the last ten changes, and picks up a new change', async () => {
    const config = dashboard.running.foundation.config;
    const { page, consoleErrors } = await dashboard.open();

    await waitForPanel(page, 'config-panel');
    const version = config.version;
    expect(await page.getByTestId('config-version').textContent()).toBe(`v${version}`);
    const rows = page.getByTestId('config-row');
    expect(await rows.count()).toBe(10);
    const first = rows.first();
    expect(await first.getAttribute('data-version')).toBe(String(version));
    expect(await first.getByTestId('config-actor').textContent()).toBe('rotator');
    expect(await first.getByTestId('config-changes').textContent()).toBe('app.apiKey');
    const second = rows.nth(1);
    expect(await second.getByTestId('config-kind').textContent()).toBe('update');
    expect(await second.getByTestId('config-reason').textContent()).toBe('step 11');
    expect(await second.getByTestId('config-changes').getAttribute('title')).toBe(
      'app.limits.rps: 110 → 111',
    );
    expect(await page.content()).not.toContain(SECRET);

    // a rollback made elsewhere shows on the next poll (every 5 s)
    await config.rollback(1, { actor: 'ops', reason: 'undo' });
    await expect
      .poll(() => page.getByTestId('config-version').textContent(), { timeout: 30_000 })
      .toBe(`v${version + 1}`);
    expect(await rows.first().getByTestId('config-kind').textContent()).toBe('rollback to 1');
    expect(await rows.count()).toBe(10);
    expect(await page.content()).not.toContain(SECRET);
    await page.screenshot({ path: '/tmp/foundation-dashboard-config.png', fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
