/**
 * Test helper: the scaffolding of a dashboard browser test — one headless Chromium and one node with its
 * control bus per suite, pages of the dashboard that record console errors, a panel's `loaded` wait and a
 * table row's cells.
 *
 * @module
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { launchChromium } from './chromium.js';
import type { RunningControlBus } from './control-bus.js';

/** A page of the dashboard and what went wrong in it. */
export interface DashboardPage {
  readonly page: Page;
  /** The page's console errors and uncaught errors, in the order they came. */
  readonly consoleErrors: string[];
}

/** The browser and node of a dashboard suite (see {@link useDashboard}). */
export interface DashboardSuite {
  /** The suite's browser; throws `setup failed` when the suite's `beforeAll` did not finish. */
  readonly browser: Browser;
  /** The suite's node; throws `setup failed` when the suite's `beforeAll` did not finish. */
  readonly running: RunningControlBus;
  /** Opens the node's dashboard (`/`) in a new page of the suite's browser (see {@link openDashboard}). */
  open(): Promise<DashboardPage>;
}

/**
 * Registers, in the calling `describe`, a `beforeAll` that launches Chromium, runs `start` (the node) and
 * then `afterStart` on it (data the test needs: the node is stopped even when this fails), and an `afterAll`
 * that closes the browser and then stops the node.
 */
export function useDashboard(
  start: () => Promise<RunningControlBus>,
  afterStart?: (running: RunningControlBus) => Promise<void>,
): DashboardSuite {
  let browser: Browser | undefined;
  let running: RunningControlBus | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    running = await start();
    await afterStart?.(running);
  });
  afterAll(async () => {
    await browser?.close();
    await running?.[Symbol.asyncDispose]();
  });
  const ready = (): { browser: Browser; running: RunningControlBus } => {
    if (browser === undefined || running === undefined) throw new Error('setup failed');
    return { browser, running };
  };
  return {
    get browser() {
      return ready().browser;
    },
    get running() {
      return ready().running;
    },
    open: () => {
      const suite = ready();
      return openDashboard(suite.browser, suite.running.url);
    },
  };
}

/**
 * Opens `url` in a new page of `browser` that records its console errors and uncaught errors; the page is
 * closed again if it cannot load.
 */
export async function openDashboard(browser: Browser, url: string): Promise<DashboardPage> {
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  try {
    await page.goto(url);
  } catch (error) {
    await page.close();
    throw error;
  }
  return { page, consoleErrors };
}

/** Waits (polling, default timeout unless `options` say) until the panel `testId` of `page` is `loaded`. */
export async function waitForPanel(
  page: Page,
  testId: string,
  options?: { readonly timeout?: number; readonly interval?: number },
): Promise<void> {
  await expect.poll(() => page.getByTestId(testId).getAttribute('data-state'), options).toBe('loaded');
}

/** The text of every `td` of the table row `row`, in order (`null` for a cell without text content). */
export function cellTexts(row: Locator): Promise<Array<string | null>> {
  return row.locator('td').evaluateAll((tds) => tds.map((td) => td.textContent));
}
