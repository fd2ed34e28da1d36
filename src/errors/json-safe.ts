/**
 * JSON-safe copies of arbitrary values, with secret redaction: what the error serializers use for error
 * context so that a log line or an HTTP body can always be produced, and never carries a secret.
 *
 * Conversions: `bigint` → decimal string; non-finite numbers → `'NaN'`, `'Infinity'`, `'-Infinity'`; `-0` → `0`;
 * functions → `'[Function name]'`; symbols → `'Symbol(desc)'`; `Date` → ISO string; `URL` → href without its
 * password; `Error` → `{ name, message, code? }`; `Map` → object; `Set` → array; typed arrays and buffers →
 * `'[Uint8Array(n)]'`; boxed primitives → their primitive; objects with `toJSON` → their JSON form; circular
 * references → `'[Circular]'`; values nested deeper than `maxDepth` → `'[Truncated]'`; throwing getters and
 * revoked proxies → `'[Unserializable]'`.
 * `undefined` properties are dropped, `undefined` array items become `null` (as `JSON.stringify` does).
 * Long strings, arrays and objects are cut to their limits, marking the cut. The conversion is idempotent:
 * converting an already converted value returns an equal value.
 *
 * @module
 */

/** A value that `JSON.stringify` turns into text and `JSON.parse` gives back unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Keys whose values are secrets. Matched case-insensitively anywhere in the key, so it errs on the safe side
 * (`passenger` and `tokenCount` are redacted too).
 */
export const SECRET_KEY_PATTERN =
  /pass(word)?|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key/i;

/** The value that replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Whether a value stored under `key` must be redacted. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key);
}

/** Limits of {@link toJsonSafe}. */
export interface JsonSafeOptions {
  /** Nesting depth below which values become `'[Truncated]'`. Default 8. */
  readonly maxDepth?: number;
  /** Longest string kept whole, in UTF-16 units. Default 8192. */
  readonly maxStringLength?: number;
  /** Most array items kept (the last one becomes a `'[n more items]'` marker). Default 100. */
  readonly maxArrayLength?: number;
  /** Most object keys kept (the last one becomes a `'[truncated]'` key). Default 100. */
  readonly maxKeys?: number;
  /** Replace values under secret keys by {@link REDACTED}. Default true. */
  readonly redact?: boolean;
}

interface Limits {
  readonly maxDepth: number;
  readonly maxStringLength: number;
  readonly maxArrayLength: number;
  readonly maxKeys: number;
  readonly redact: boolean;
}

const STRING_CUT_MARKER = '…[truncated]';
const TRUNCATED_KEY = '[truncated]';

function limitsOf(options: JsonSafeOptions): Limits {
  return {
    maxDepth: Math.max(1, options.maxDepth ?? 8),
    maxStringLength: Math.max(STRING_CUT_MARKER.length + 1, options.maxStringLength ?? 8192),
    maxArrayLength: Math.max(2, options.maxArrayLength ?? 100),
    maxKeys: Math.max(2, options.maxKeys ?? 100),
    redact: options.redact ?? true,
  };
}

function safeString(text: string, limits: Limits): string {
  if (text.length <= limits.maxStringLength) return text;
  return text.slice(0, limits.maxStringLength - STRING_CUT_MARKER.length) + STRING_CUT_MARKER;
}

/** Sets `key` as an own data property, so `__proto__` stays an ordinary key. */
function define(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function urlWithoutPassword(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = 'REDACTED';
  return copy.href;
}

function convertEntries(
  entries: readonly (readonly [string, () => unknown])[],
  depth: number,
  ancestors: object[],
  limits: Limits,
): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  const keep = entries.length > limits.maxKeys ? limits.maxKeys - 1 : entries.length;
  for (let i = 0; i < keep; i++) {
    const [key, read] = entries[i] as readonly [string, () => unknown];
    if (limits.redact && isSecretKey(key)) {
      define(out, key, REDACTED);
      continue;
    }
    let raw: unknown;
    try {
      raw = read();
    } catch {
      raw = '[Unserializable]';
    }
    if (raw !== undefined) define(out, key, convert(raw, depth + 1, ancestors, limits));
  }
  if (keep < entries.length) define(out, TRUNCATED_KEY, `${entries.length - keep} more keys`);
  return out;
}

function ownEntries(value: object): (readonly [string, () => unknown])[] {
  return Object.keys(value).map((key) => [key, () => (value as Record<string, unknown>)[key]] as const);
}

function convertObject(value: object, depth: number, ancestors: object[], limits: Limits): JsonValue {
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return convert(value.valueOf(), depth, ancestors, limits);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof URL) return safeString(urlWithoutPassword(value), limits);
  if (value instanceof RegExp) return safeString(String(value), limits);
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? Number(value.length) : value.byteLength;
    return `[${value.constructor.name}(${length})]`;
  }
  if (value instanceof ArrayBuffer) return `[ArrayBuffer(${value.byteLength})]`;
  if (value instanceof Error) {
    const out: Record<string, JsonValue> = {};
    define(out, 'name', safeString(value.name, limits));
    define(out, 'message', safeString(value.message, limits));
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number')
      define(out, 'code', convert(code, depth, [], limits));
    return out;
  }
  if (Array.isArray(value) || value instanceof Set) {
    const items: unknown[] = Array.isArray(value) ? value : [...(value as Set<unknown>)];
    const out: JsonValue[] = [];
    const keep = items.length > limits.maxArrayLength ? limits.maxArrayLength - 1 : items.length;
    for (let i = 0; i < keep; i++) {
      out.push(convert(items[i], depth + 1, ancestors, limits) ?? null);
    }
    if (keep < items.length) out.push(`[${items.length - keep} more items]`);
    return out;
  }
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>)].map(([k, v]) => [String(k), () => v] as const);
    return convertEntries(entries, depth, ancestors, limits);
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    return convert(toJSON.call(value) as unknown, depth + 1, ancestors, limits);
  }
  return convertEntries(ownEntries(value), depth, ancestors, limits);
}

function convert(value: unknown, depth: number, ancestors: object[], limits: Limits): JsonValue {
  switch (typeof value) {
    case 'string':
      return safeString(value, limits);
    case 'number':
      if (!Number.isFinite(value)) return String(value);
      return Object.is(value, -0) ? 0 : value;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'symbol':
      return safeString(value.toString(), limits);
    case 'function':
      return safeString(`[Function ${value.name === '' ? 'anonymous' : value.name}]`, limits);
    case 'object':
      break;
  }
  if (value === null) return null;
  if (ancestors.includes(value)) return '[Circular]';
  if (depth >= limits.maxDepth) return '[Truncated]';
  ancestors.push(value);
  try {
    return convertObject(value, depth, ancestors, limits);
  } catch {
    return '[Unserializable]';
  } finally {
    ancestors.pop();
  }
}

/** A JSON-safe copy of `value` (see the module comment for the conversions). Never throws. */
export function toJsonSafe(value: unknown, options: JsonSafeOptions = {}): JsonValue {
  return convert(value, 0, [], limitsOf(options));
}

/**
 * A JSON-safe copy of a record (an error's context), secrets redacted unless `options.redact` is false.
 * A value that is not a plain record gives `{}`. Never throws.
 */
export function toJsonSafeRecord(record: unknown, options: JsonSafeOptions = {}): Record<string, JsonValue> {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return {};
  const limits = limitsOf(options);
  try {
    return convertEntries(ownEntries(record), 0, [record], limits);
  } catch {
    return {};
  }
}
