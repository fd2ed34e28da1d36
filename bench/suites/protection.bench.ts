/**
 * Protection (issue 7): ours (layers composed with `pipeline`) vs cockatiel 4.0.0 and opossum 10.0.0 in the
 * same run, and a bare `await fn()` (cases in bench/protection/cases.ts; the notes give the added overhead
 * `(ours − bare) / (peer − bare)`).
 *
 * Targets: a closed breaker around `async () => 1` adds ≤ 0.5× what cockatiel's adds and ≤ 0.1× opossum's
 * `fire()`; retry + breaker + timeout ≤ 0.05× cockatiel's `wrap(retry, breaker, timeout)`, ≤ 0.3× when the
 * function reads its signal. Timeout alone and retry alone are context rows.
 *
 * @module
 */
import { defineSuite } from '../suite.js';
import {
  breakerCase,
  composedCase,
  composedSignalCase,
  retryCase,
  timeoutCase,
} from '../protection/cases.js';

export default defineSuite({
  name: 'protection',
  cases: [breakerCase([]), composedCase([]), composedSignalCase([]), timeoutCase([]), retryCase([])],
});
