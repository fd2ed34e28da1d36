/**
 * Headless Debian Chromium for the dashboard's browser tests, driven by playwright-core (never a downloaded
 * browser). Outside CI a missing `/usr/bin/chromium` skips those tests with a warning; in CI (`CI=true`)
 * it is an error.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for this machine: headless, no sandbox (root), and no background networking (the closed network
 * refuses Chromium's own connections).
 */
export const LAUNCH_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether the browser tests of `suite` can run: true when Chromium is installed; otherwise throws in CI and
 * warns (returning false) elsewhere.
 */
export function chromiumAvailable(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') {
    throw new Error(
      `${CHROMIUM} is missing: the dashboard browser tests cannot run in CI (install Debian chromium)`,
    );
  }
  console.warn(`[${suite}] SKIPPED: ${CHROMIUM} not found; install Debian chromium to run the browser tests`);
  return false;
}

/** Launches headless Chromium with {@link LAUNCH_ARGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...LAUNCH_ARGS] });
}
