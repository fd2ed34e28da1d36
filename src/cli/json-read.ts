/**
 * Reading the control bus's JSON answers defensively for terminal output: an unexpected shape prints as `-`
 * instead of failing.
 *
 * @module
 */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** `value` if it is an object, else `{}`. */
export function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** `value`'s objects if it is an array, else `[]`. */
export function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(record) : [];
}

/** A string, number or boolean as text; `-` for anything else or an empty string. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '-' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '-';
}
