/**
 * What every config version store shares: the check of a record before it is stored (so memory, SQLite and
 * PostgreSQL accept and refuse exactly the same records), its encoding into columns and back, the
 * normalisation of `list` / `since` arguments, and the conflict error.
 *
 * A record is refused (`FND_CONFIG_INVALID_STRUCTURE`, nothing stored) when its JSON would not read back
 * equal: non-plain objects (Date, Map, class instances), cycles, bigints, functions, symbols, `NaN` /
 * `Infinity`, holes or `undefined` in arrays, and strings (or keys) PostgreSQL cannot hold — a NUL
 * character or a lone UTF-16 surrogate. An object property whose value is `undefined` is dropped and `-0`
 * reads back as `0`, as JSON does. Error messages name the offending field and path, never a value
 * (values may be secret). On PostgreSQL (`jsonb`) the keys of an object may read back in another order.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type {
  ConfigChange,
  ConfigVersionKind,
  ConfigVersionRecord,
  JsonObject,
  JsonValue,
} from '../types.js';

/** The largest version a store accepts (PostgreSQL `integer`). */
export const MAX_CONFIG_VERSION = 2_147_483_647;

/** `list`'s default and largest page. */
export const CONFIG_LIST_LIMIT = { default: 50, max: 1000 } as const;

const KINDS: ReadonlySet<string> = new Set<ConfigVersionKind>(['initial', 'update', 'rollback', 'file']);

/** A UTF-16 surrogate that is not half of a pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A record as columns: the three JSON documents as JSON text, absent optional fields as `null`. */
export interface EncodedConfigVersion {
  readonly version: number;
  readonly at: number;
  readonly kind: ConfigVersionKind;
  readonly node: string;
  readonly overrides: string;
  readonly config: string;
  readonly changes: string;
  readonly rolledBackTo: number | null;
  readonly reason: string | null;
  readonly actor: string | null;
  readonly correlationId: string | null;
}

/** A row as a store reads it; JSON columns are JSON text (SQLite) or already parsed (PostgreSQL `jsonb`). */
export interface ConfigVersionRow {
  readonly version: number;
  readonly at: number | string;
  readonly kind: string;
  readonly node: string;
  readonly overrides: unknown;
  readonly config: unknown;
  readonly changes: unknown;
  readonly rolled_back_to: number | null;
  readonly reason: string | null;
  readonly actor: string | null;
  readonly correlation_id: string | null;
}

function invalid(field: string, problem: string, path?: string): FoundationError {
  const where = path === undefined || path === '' ? field : `${field} at "${path.slice(0, 200)}"`;
  return new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
    message: `A config version cannot be stored: ${where} ${problem}`,
    context: path === undefined ? { field } : { field, path: path.slice(0, 200) },
  });
}

function checkText(field: string, value: unknown, path?: string): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string', path);
  if (value.includes('\u0000') || LONE_SURROGATE.test(value)) {
    throw invalid(field, 'contains a NUL character or a lone surrogate, which cannot be stored', path);
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function join(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${String(key)}`;
}

/** Throws unless `value` is a JSON value that reads back equal (see the module's notes). */
function checkJson(field: string, value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
      checkText(field, value, path);
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw invalid(field, 'holds a number JSON cannot represent', path);
      return;
    case 'object':
      break;
    default:
      throw invalid(field, `holds a ${typeof value}, which is not JSON`, path);
  }
  if (value === null) return;
  if (seen.has(value)) throw invalid(field, 'holds a cycle', path);
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || value[i] === undefined)
        throw invalid(field, 'holds a hole or undefined', join(path, i));
      checkJson(field, value[i], join(path, i), seen);
    }
  } else {
    if (!isPlainObject(value)) throw invalid(field, 'holds an object that is not a plain object', path);
    if (Object.getOwnPropertySymbols(value).length > 0) throw invalid(field, 'holds symbol keys', path);
    for (const [key, inner] of Object.entries(value)) {
      checkText(field, key, join(path, key));
      if (inner !== undefined) checkJson(field, inner, join(path, key), seen);
    }
  }
  seen.delete(value);
}

function checkObject(field: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw invalid(field, 'must be a plain JSON object');
  }
  checkJson(field, value, '', new Set());
}

function checkVersionNumber(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_CONFIG_VERSION) {
    throw invalid(field, `must be an integer from 1 to ${String(MAX_CONFIG_VERSION)}`);
  }
  return value;
}

function optionalText(field: string, value: unknown): string | null {
  return value === undefined ? null : checkText(field, value);
}

/** The changes as stored: each exactly `{ path, old?, new? }`. */
function checkChanges(value: unknown): ConfigChange[] {
  if (!Array.isArray(value)) throw invalid('changes', 'must be an array');
  return value.map((change: unknown, i): ConfigChange => {
    if (typeof change !== 'object' || change === null || Array.isArray(change)) {
      throw invalid('changes', 'must hold objects', String(i));
    }
    const c = change as { path?: unknown; old?: unknown; new?: unknown };
    const path = checkText('changes', c.path, `${String(i)}.path`);
    if (c.old !== undefined) checkJson('changes', c.old, `${String(i)}.old`, new Set());
    if (c.new !== undefined) checkJson('changes', c.new, `${String(i)}.new`, new Set());
    return { path, old: c.old as JsonValue | undefined, new: c.new as JsonValue | undefined };
  });
}

/**
 * Checks `record` and encodes it for storage.
 *
 * @throws FoundationError `FND_CONFIG_INVALID_STRUCTURE` when a field is missing, of the wrong type, or holds
 * something JSON cannot carry back unchanged.
 */
/**
 * The encoded columns in the order both SQL stores insert them: version, at, kind, node, overrides, config,
 * changes, rolled_back_to, reason, actor, correlation_id.
 */
export function configVersionColumns(e: EncodedConfigVersion): Array<string | number | null> {
  return [
    e.version,
    e.at,
    e.kind,
    e.node,
    e.overrides,
    e.config,
    e.changes,
    e.rolledBackTo,
    e.reason,
    e.actor,
    e.correlationId,
  ];
}

export function encodeConfigVersion(record: ConfigVersionRecord): EncodedConfigVersion {
  if (typeof record !== 'object' || (record as unknown) === null)
    throw invalid('record', 'must be an object');
  const version = checkVersionNumber('version', record.version);
  const at: unknown = record.at;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) {
    throw invalid('at', 'must be a non-negative integer (ms since the epoch)');
  }
  const kind: unknown = record.kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) {
    throw invalid('kind', 'must be initial, update, rollback or file');
  }
  const node = checkText('node', record.node);
  checkObject('overrides', record.overrides);
  checkObject('config', record.config);
  const changes = checkChanges(record.changes);
  const rolledBackTo =
    record.rolledBackTo === undefined ? null : checkVersionNumber('rolledBackTo', record.rolledBackTo);
  return {
    version,
    at,
    kind: kind as ConfigVersionKind,
    node,
    overrides: JSON.stringify(record.overrides),
    config: JSON.stringify(record.config),
    changes: JSON.stringify(changes),
    rolledBackTo,
    reason: optionalText('reason', record.reason),
    actor: optionalText('actor', record.actor),
    correlationId: optionalText('correlationId', record.correlationId),
  };
}

function fromJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** Every change with exactly the keys `path`, `old` and `new` (absent values read back as `undefined`). */
function toChanges(value: unknown): ConfigChange[] {
  if (!Array.isArray(value)) return [];
  return value.map((c: { path: string; old?: JsonValue; new?: JsonValue }) => ({
    path: c.path,
    old: c.old,
    new: c.new,
  }));
}

/** Deep-freezes a parsed JSON value. */
function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) freeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Decodes a stored row into a frozen record. JSON columns may be JSON text (SQLite, memory) or already parsed
 * (PostgreSQL `jsonb`); optional fields stored as `null` are absent.
 */
export function decodeConfigVersion(row: ConfigVersionRow): ConfigVersionRecord {
  const record: {
    -readonly [K in keyof ConfigVersionRecord]: ConfigVersionRecord[K];
  } = {
    version: row.version,
    at: Number(row.at),
    kind: row.kind as ConfigVersionKind,
    overrides: fromJson(row.overrides) as JsonObject,
    config: fromJson(row.config) as JsonObject,
    changes: toChanges(fromJson(row.changes)),
    node: row.node,
  };
  if (row.rolled_back_to !== null) record.rolledBackTo = row.rolled_back_to;
  if (row.reason !== null) record.reason = row.reason;
  if (row.actor !== null) record.actor = row.actor;
  if (row.correlation_id !== null) record.correlationId = row.correlation_id;
  return freeze(record);
}

/** The row an encoded record becomes (what the memory store keeps). */
export function encodedToRow(encoded: EncodedConfigVersion): ConfigVersionRow {
  return {
    version: encoded.version,
    at: encoded.at,
    kind: encoded.kind,
    node: encoded.node,
    overrides: encoded.overrides,
    config: encoded.config,
    changes: encoded.changes,
    rolled_back_to: encoded.rolledBackTo,
    reason: encoded.reason,
    actor: encoded.actor,
    correlation_id: encoded.correlationId,
  };
}

/**
 * The refusal of an append whose version is not the latest + 1: taken by another writer, or a gap.
 */
export function versionConflict(version: number, latest: number | undefined): FoundationError {
  const expected = (latest ?? 0) + 1;
  const why =
    version < expected
      ? 'was already written by another writer'
      : `would leave a gap after ${String(latest ?? 0)}`;
  return new FoundationError('FND_CONFIG_VERSION_CONFLICT', {
    message: `Config version ${String(version)} ${why}; the next version is ${String(expected)}`,
    context: { version, latest: latest ?? 0, expected },
  });
}

function checkNumberArg(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
      message: `${name} must be a number`,
      context: { argument: name },
    });
  }
  return value;
}

function clampInteger(value: number): number {
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, value));
}

/**
 * `list`'s options as integers: `limit` (default 50) clamped to 0…1000 and rounded down; `before` rounded up
 * (versions are integers), `undefined` for no bound.
 *
 * @throws FoundationError `FND_CONFIG_INVALID_VALUE` when `limit` or `before` is not a number (or is NaN).
 */
export function listArgs(options: { readonly limit?: number; readonly before?: number } | undefined): {
  limit: number;
  before: number | undefined;
} {
  const limitOption = options?.limit;
  const limit =
    limitOption === undefined
      ? CONFIG_LIST_LIMIT.default
      : Math.max(0, Math.min(CONFIG_LIST_LIMIT.max, Math.floor(checkNumberArg('limit', limitOption))));
  const beforeOption = options?.before;
  const before =
    beforeOption === undefined || beforeOption === Infinity
      ? undefined
      : clampInteger(Math.ceil(checkNumberArg('before', beforeOption)));
  return { limit, before };
}

/**
 * `since`'s argument as an integer (rounded down).
 *
 * @throws FoundationError `FND_CONFIG_INVALID_VALUE` when it is not a number (or is NaN).
 */
export function sinceArg(version: number): number {
  return clampInteger(Math.floor(checkNumberArg('version', version)));
}

/** Whether `get`'s argument can name a stored version at all. */
export function isStorableVersion(version: number): boolean {
  return Number.isInteger(version) && version >= 1 && version <= MAX_CONFIG_VERSION;
}
