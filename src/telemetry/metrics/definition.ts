/**
 * Validation and normalization of {@link MetricDefinition}s: every definition a registry holds is checked,
 * completed with its defaults and frozen, so two definitions are equal exactly when their normalized forms
 * are.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { MetricDefinition, MetricKind } from '../types.js';

/** Metric names: dotted lowercase segments, e.g. `foundation.events.appended`. */
const METRIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
/** Tag names: one lowercase segment. */
const TAG_NAME = /^[a-z][a-z0-9_]*$/;
/** Telemetry event names, as the kernel accepts them (`area:event`). */
const EVENT_NAME = /^[a-z][a-z0-9_]*(?::[a-z][a-z0-9_.]*)+$/;
/** Measurement names, as events spell them (`duration`, `durationMs`). */
const MEASUREMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Units: short lowercase words (`ms`, `bytes`, `ratio`). */
const UNIT = /^[a-z][a-z0-9_]*$/;

/** Longest metric name accepted. */
export const MAX_METRIC_NAME_LENGTH = 200;
/** Most tags one metric may have. */
export const MAX_TAGS = 10;
/** Default cardinality limit of a metric (series beyond it go to the overflow series). */
export const DEFAULT_MAX_SERIES = 1000;
/** Largest cardinality limit accepted. */
export const MAX_MAX_SERIES = 100_000;
/** Default quantiles of a summary. */
export const DEFAULT_QUANTILES: readonly number[] = Object.freeze([0.5, 0.9, 0.99]);
/** Default sliding window of a summary, ms. */
export const DEFAULT_WINDOW_MS = 60_000;
/** Default number of sub-windows a summary's window rotates by. */
export const DEFAULT_WINDOW_BUCKETS = 6;
/** Default relative accuracy of a summary's quantiles. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;

const KINDS: ReadonlySet<string> = new Set<MetricKind>([
  'counter',
  'sum',
  'last_value',
  'summary',
  'distribution',
]);

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'kind',
  'description',
  'unit',
  'tags',
  'maxSeries',
  'event',
  'measurement',
  'buckets',
  'quantiles',
  'windowMs',
  'windowBuckets',
  'relativeAccuracy',
]);

function invalid(name: unknown, message: string, field: string): FoundationError {
  const shown = typeof name === 'string' ? name.slice(0, 100) : typeof name;
  return new FoundationError('FND_TELEMETRY_INVALID_METRIC', {
    message: `Metric "${shown}": ${message}`,
    context: { metric: shown, field },
  });
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function checkString(def: Record<string, unknown>, field: string, pattern: RegExp | undefined): void {
  const value = def[field];
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length > 1000 || (pattern !== undefined && !pattern.test(value))) {
    throw invalid(def['name'], `${field} is not valid`, field);
  }
}

function checkTags(def: Record<string, unknown>): readonly string[] {
  const tags = def['tags'];
  if (tags === undefined) return Object.freeze([]);
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) {
    throw invalid(def['name'], `tags must be an array of at most ${String(MAX_TAGS)} names`, 'tags');
  }
  const seen = new Set<string>();
  for (const tag of tags as unknown[]) {
    if (typeof tag !== 'string' || tag.length > 100 || !TAG_NAME.test(tag) || seen.has(tag)) {
      throw invalid(def['name'], 'tag names must be distinct and match ^[a-z][a-z0-9_]*$', 'tags');
    }
    seen.add(tag);
  }
  return Object.freeze([...seen]);
}

function checkInteger(
  def: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = def[field];
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalid(def['name'], `${field} must be an integer in [${String(min)}, ${String(max)}]`, field);
  }
  return value as number;
}

function checkBuckets(def: Record<string, unknown>): readonly number[] {
  const buckets = def['buckets'];
  if (!Array.isArray(buckets) || buckets.length < 1 || buckets.length > 100) {
    throw invalid(def['name'], 'a distribution needs 1 to 100 bucket bounds', 'buckets');
  }
  let previous = -Infinity;
  for (const bound of buckets as unknown[]) {
    if (!isFiniteNumber(bound) || bound <= previous) {
      throw invalid(def['name'], 'bucket bounds must be finite numbers in ascending order', 'buckets');
    }
    previous = bound;
  }
  return Object.freeze([...(buckets as number[])]);
}

function checkQuantiles(def: Record<string, unknown>): readonly number[] {
  const quantiles = def['quantiles'];
  if (quantiles === undefined) return DEFAULT_QUANTILES;
  if (!Array.isArray(quantiles) || quantiles.length < 1 || quantiles.length > 20) {
    throw invalid(def['name'], 'quantiles must be 1 to 20 numbers in (0, 1)', 'quantiles');
  }
  for (const q of quantiles as unknown[]) {
    if (!isFiniteNumber(q) || q <= 0 || q >= 1) {
      throw invalid(def['name'], 'quantiles must be numbers in (0, 1)', 'quantiles');
    }
  }
  return Object.freeze([...new Set(quantiles as number[])].sort((a, b) => a - b));
}

function checkSummary(def: Record<string, unknown>): {
  quantiles: readonly number[];
  windowMs: number;
  windowBuckets: number;
  relativeAccuracy: number;
} {
  const windowMs = checkInteger(def, 'windowMs', 1000, 7 * 24 * 3_600_000) ?? DEFAULT_WINDOW_MS;
  const windowBuckets = checkInteger(def, 'windowBuckets', 1, 60) ?? DEFAULT_WINDOW_BUCKETS;
  const accuracy = def['relativeAccuracy'] ?? DEFAULT_RELATIVE_ACCURACY;
  if (!isFiniteNumber(accuracy) || accuracy <= 0 || accuracy >= 1) {
    throw invalid(def['name'], 'relativeAccuracy must be a number in (0, 1)', 'relativeAccuracy');
  }
  return { quantiles: checkQuantiles(def), windowMs, windowBuckets, relativeAccuracy: accuracy };
}

function refuseFields(def: Record<string, unknown>, fields: readonly string[], kind: string): void {
  for (const field of fields) {
    if (def[field] !== undefined) throw invalid(def['name'], `${field} does not apply to a ${kind}`, field);
  }
}

/**
 * Validates a definition and returns its normalized, frozen form: `tags` and `maxSeries` always present;
 * for a summary `quantiles` (sorted, distinct), `windowMs`, `windowBuckets` and `relativeAccuracy` filled
 * with their defaults; for a distribution `buckets` copied. Fields that do not apply to the kind are
 * refused, as are unknown fields.
 *
 * @throws FoundationError `FND_TELEMETRY_INVALID_METRIC` on any invalid field.
 */
export function normalizeDefinition(definition: MetricDefinition): MetricDefinition {
  const given: unknown = definition;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalid(undefined, 'a definition must be an object', 'definition');
  }
  const def = definition as unknown as Record<string, unknown>;
  const name = def['name'];
  if (typeof name !== 'string' || name.length > MAX_METRIC_NAME_LENGTH || !METRIC_NAME.test(name)) {
    throw invalid(name, 'the name must be dotted lowercase segments of at most 200 characters', 'name');
  }
  for (const key of Object.keys(def)) {
    if (!KNOWN_FIELDS.has(key)) throw invalid(name, `unknown field "${key.slice(0, 50)}"`, 'definition');
  }
  const kind = def['kind'];
  if (typeof kind !== 'string' || !KINDS.has(kind)) throw invalid(name, 'unknown kind', 'kind');
  checkString(def, 'description', undefined);
  checkString(def, 'unit', UNIT);
  checkString(def, 'event', EVENT_NAME);
  checkString(def, 'measurement', MEASUREMENT_NAME);
  if (def['measurement'] !== undefined && def['event'] === undefined) {
    throw invalid(name, 'measurement needs an event', 'measurement');
  }
  if (def['event'] !== undefined && kind !== 'counter' && def['measurement'] === undefined) {
    throw invalid(name, `an event-fed ${kind} needs a measurement`, 'measurement');
  }
  const tags = checkTags(def);
  const maxSeries = checkInteger(def, 'maxSeries', 1, MAX_MAX_SERIES) ?? DEFAULT_MAX_SERIES;
  const base: Record<string, unknown> = { name, kind };
  for (const field of ['description', 'unit', 'event', 'measurement']) {
    if (def[field] !== undefined) base[field] = def[field];
  }
  base['tags'] = tags;
  base['maxSeries'] = maxSeries;
  const summaryFields = ['quantiles', 'windowMs', 'windowBuckets', 'relativeAccuracy'];
  if (kind === 'summary') {
    refuseFields(def, ['buckets'], kind);
    Object.assign(base, checkSummary(def));
  } else if (kind === 'distribution') {
    refuseFields(def, summaryFields, kind);
    base['buckets'] = checkBuckets(def);
  } else {
    refuseFields(def, ['buckets', ...summaryFields], kind);
  }
  return Object.freeze(base) as unknown as MetricDefinition;
}

function sameArray(a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Whether two normalized definitions are equal (field by field). */
export function sameDefinition(a: MetricDefinition, b: MetricDefinition): boolean {
  return (
    a.name === b.name &&
    a.kind === b.kind &&
    a.description === b.description &&
    a.unit === b.unit &&
    a.event === b.event &&
    a.measurement === b.measurement &&
    a.maxSeries === b.maxSeries &&
    a.windowMs === b.windowMs &&
    a.windowBuckets === b.windowBuckets &&
    a.relativeAccuracy === b.relativeAccuracy &&
    sameArray(a.tags, b.tags) &&
    sameArray(a.buckets, b.buckets) &&
    sameArray(a.quantiles, b.quantiles)
  );
}
