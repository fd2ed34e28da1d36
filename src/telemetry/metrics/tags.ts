/**
 * Tag values and series keys. A series is identified by its tag values in definition order; missing tags
 * are `''`, extra keys are ignored, values are stringified and cut to {@link MAX_TAG_VALUE_LENGTH}
 * characters.
 *
 * @module
 */
import type { Tags } from '../types.js';

/** Longest tag value kept; longer values are truncated. */
export const MAX_TAG_VALUE_LENGTH = 100;

/** Separator of tag values in a series key. NUL characters inside values become U+FFFD, so keys never clash. */
const SEPARATOR = '\u0000';

/** Tags as observations give them: values are usually strings; numbers and booleans are stringified. */
export type TagInput = Readonly<Record<string, unknown>>;

function stringify(raw: unknown): string {
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
  // Functions are never tag values; this also ignores Object.prototype members (`tags.constructor`).
  if (raw === undefined || raw === null || typeof raw === 'function') return '';
  try {
    // Objects stringify through their own toString (an Error gives "Error: message").
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    return String(raw);
  } catch {
    // An object whose toString throws (or a null-prototype object): no usable value.
    return '';
  }
}

/**
 * The normalized tag value of `raw`: `''` when absent, strings as they are, other values through `String`,
 * at most {@link MAX_TAG_VALUE_LENGTH} characters, NUL replaced by U+FFFD. Never throws.
 */
export function tagValue(raw: unknown): string {
  let value = typeof raw === 'string' ? raw : stringify(raw);
  if (value.length > MAX_TAG_VALUE_LENGTH) value = value.slice(0, MAX_TAG_VALUE_LENGTH);
  if (value.includes(SEPARATOR)) value = value.replaceAll(SEPARATOR, '\uFFFD');
  return value;
}

/** The series key of `tags` for a metric with tag names `names` (at least one). */
export function seriesKey(names: readonly string[], tags: TagInput): string {
  let key = tagValue(tags[names[0] as string]);
  for (let i = 1; i < names.length; i++) key += SEPARATOR + tagValue(tags[names[i] as string]);
  return key;
}

/** The key of the series whose every tag value is `value` (used for the overflow series). */
export function uniformKey(names: readonly string[], value: string): string {
  return names.map(() => value).join(SEPARATOR);
}

/** The frozen, normalized tags of a series (definition order) from an observation's tags. */
export function normalizedTags(names: readonly string[], tags: TagInput): Tags {
  const out: Record<string, string> = {};
  for (const name of names) out[name] = tagValue(tags[name]);
  return Object.freeze(out);
}
