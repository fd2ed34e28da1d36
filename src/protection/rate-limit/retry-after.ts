/**
 * Reading a dependency's `Retry-After` (HTTP 429 / 503): delta-seconds (`"120"`), an HTTP-date in any of the
 * three forms HTTP recipients must accept (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
 * `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`), or a number of seconds — turned
 * into ms from now for `RateLimiter.hold`. Strict: `Date.parse`'s guesses (`Date.parse('1')` is a
 * date in 2001) are never used; anything else is `undefined`.
 *
 * @module
 */
import { MAX_RATE_LIMIT_HOLD_MS } from './types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MONTH = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const LONG_DAY = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** `Sun, 06 Nov 1994 08:49:37 GMT`: day, month, year, hour, minute, second. */
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT`: day, month, two-digit year, hour, minute, second. */
const RFC_850 = new RegExp(`^(?:${LONG_DAY}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994`: month, day (space-padded), hour, minute, second, year. */
const ASCTIME = new RegExp(`^(?:${DAY}) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`);
/** Delta-seconds (RFC 9110: digits); a fractional part is tolerated. */
const SECONDS = /^\d+(?:\.\d+)?$/;

/** Ms since the epoch of a calendar time, or undefined when a field is out of range (31 Feb, 25:00…). */
function utc(
  year: number,
  month: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const m = (MONTHS as readonly string[]).indexOf(month);
  // Second 60: a leap second, as HTTP-date allows.
  if (m < 0 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(Date.UTC(year, m, day));
  date.setUTCFullYear(year); // Date.UTC maps years 0-99 to 1900-1999
  if (date.getUTCMonth() !== m || date.getUTCDate() !== day) return undefined;
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000;
}

/** The whole match and the six captures of one HTTP-date pattern. */
type Captures = [string, string, string, string, string, string, string];

/** The time of an HTTP-date, or undefined. A two-digit year more than 50 years ahead is in the past century. */
function httpDate(text: string, nowMs: number): number | undefined {
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) {
    const [, d, mon, y, h, mi, s] = match as unknown as Captures;
    return utc(Number(y), mon, Number(d), Number(h), Number(mi), Number(s));
  }
  match = RFC_850.exec(text);
  if (match !== null) {
    const [, d, mon, yy, h, mi, s] = match as unknown as Captures;
    const thisYear = new Date(nowMs).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(yy);
    if (year > thisYear + 50) year -= 100;
    return utc(year, mon, Number(d), Number(h), Number(mi), Number(s));
  }
  match = ASCTIME.exec(text);
  if (match !== null) {
    const [, mon, d, h, mi, s, y] = match as unknown as Captures;
    return utc(Number(y), mon, Number(d.trim()), Number(h), Number(mi), Number(s));
  }
  return undefined;
}

function clamp(ms: number): number {
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_RATE_LIMIT_HOLD_MS);
}

/**
 * The wait a `Retry-After` value asks for, in ms from `nowMs` (ms since the epoch): a string of
 * delta-seconds or an HTTP-date (surrounding whitespace ignored), or a non-negative finite number of
 * seconds. The result is a whole number of ms from 0 (a date in the past) to 24 h (longer waits are capped);
 * anything else — empty, negative, non-finite, another date format, a non-string non-number — is
 * `undefined`. A positive result can be passed to `RateLimiter.hold` as is.
 *
 * @example
 * ```ts
 * const ms = parseRetryAfter(response.headers.get('retry-after'), Date.now());
 * if (response.status === 429 && ms !== undefined && ms > 0) await limiter.hold(tenant, ms);
 * ```
 */
export function parseRetryAfter(value: unknown, nowMs: number): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? clamp(value * 1000) : undefined;
  }
  if (typeof value !== 'string' || !Number.isFinite(nowMs)) return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) return clamp(Number(text) * 1000);
  const at = httpDate(text, nowMs);
  return at === undefined ? undefined : clamp(at - nowMs);
}
