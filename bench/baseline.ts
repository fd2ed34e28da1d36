/**
 * Baselines for regression checks: the same suites run `--repeat N` times, reduced to one median ns/op per
 * suite, case and implementation, with a noise band measured from how far the repeats disagree. Written by
 * `npm run bench -- --save <file>`, read by `--compare <file>` (see compare.ts).
 *
 * @module
 */
import type { JsonRow } from './report.js';

/** The version of the baseline file format; a file with another version is refused. */
export const BASELINE_VERSION = 1;

/**
 * The smallest noise band a row gets (0.05 = 5 %): three repeats that happen to agree closely do not prove
 * that the next run on the same machine will land within 1 % of them.
 */
export const NOISE_FLOOR = 0.05;

/** Where a baseline was measured. Numbers from another machine compare only loosely. */
export interface MachineInfo {
  readonly node: string;
  readonly cpu: string;
  readonly cpus: number;
  readonly platform: string;
  readonly arch: string;
}

/** How the runs behind a baseline were made. */
export interface RunSettings {
  /** Measured time per case, in ms (the harness default unless `--time` was given). */
  readonly timeMs: number;
  /** Full runs of the selected suites; each contributes one ns/op per row. */
  readonly repeat: number;
  /** Whether it was a `--quick` smoke run (its numbers are not meaningful). */
  readonly quick: boolean;
}

/** One suite/case/implementation of a baseline. */
export interface BaselineRow {
  readonly suite: string;
  readonly case: string;
  readonly impl: string;
  /** Median of the repeats' ns/op. */
  readonly nsPerOp: number;
  /**
   * Relative noise band: the spread of the repeats, `max / min − 1`, and at least {@link NOISE_FLOOR}.
   * A later run is called slower only when it is more than this much slower than {@link nsPerOp}.
   */
  readonly noise: number;
  /** The ns/op of each repeat, in run order (kept so the band can be judged by a reader). */
  readonly runs: readonly number[];
}

/** A baseline file: `bench/baseline.json`, or any file given to `--save`. */
export interface Baseline {
  readonly version: typeof BASELINE_VERSION;
  /** ISO 8601 time the measurement ended. */
  readonly date: string;
  readonly machine: MachineInfo;
  readonly settings: RunSettings;
  readonly rows: readonly BaselineRow[];
}

/** The measurement of one suite/case/implementation over the repeats, before it becomes a baseline. */
export interface MeasuredRow {
  readonly suite: string;
  readonly case: string;
  readonly impl: string;
  readonly nsPerOp: number;
  readonly noise: number;
  readonly runs: readonly number[];
}

/** The key that identifies a row across runs and files. */
export function rowKey(row: {
  readonly suite: string;
  readonly case: string;
  readonly impl: string;
}): string {
  return JSON.stringify([row.suite, row.case, row.impl]);
}

/** The median of `values` (the mean of the middle two for an even count); `NaN` for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The noise band of repeated measurements: `max / min − 1`, at least `floor`. One measurement has no
 * measured spread and gets the floor.
 */
export function noiseBand(values: readonly number[], floor: number = NOISE_FLOOR): number {
  if (values.length < 2) return floor;
  const spread = Math.max(...values) / Math.min(...values) - 1;
  return Math.max(floor, round(spread, 4));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Reduces repeated runs (each the JSON rows of one full run of the selected suites) to one row per
 * suite/case/implementation, in first-seen order. A row missing from some runs (a case skipped once) is
 * measured over the runs that have it.
 */
export function summarizeRuns(
  runs: readonly (readonly JsonRow[])[],
  floor: number = NOISE_FLOOR,
): MeasuredRow[] {
  const grouped = new Map<string, { row: JsonRow; values: number[] }>();
  for (const run of runs) {
    for (const row of run) {
      const key = rowKey(row);
      const entry = grouped.get(key);
      if (entry === undefined) grouped.set(key, { row, values: [row.nsPerOp] });
      else entry.values.push(row.nsPerOp);
    }
  }
  return [...grouped.values()].map(({ row, values }) => ({
    suite: row.suite,
    case: row.case,
    impl: row.impl,
    nsPerOp: round(median(values), 3),
    noise: noiseBand(values, floor),
    runs: values,
  }));
}

/** A baseline from measured rows and where and how they were measured. */
export function createBaseline(
  rows: readonly MeasuredRow[],
  machine: MachineInfo,
  settings: RunSettings,
  date: Date,
): Baseline {
  return {
    version: BASELINE_VERSION,
    date: date.toISOString(),
    machine,
    settings,
    rows: rows.map((row) => ({ ...row, runs: [...row.runs] })),
  };
}

/** The baseline as the text of its file: indented JSON, one row per line, ending with a newline. */
export function formatBaseline(baseline: Baseline): string {
  const { rows, ...head } = baseline;
  const headJson = JSON.stringify(head, null, 2).slice(0, -2);
  const rowLines = rows.map((row) => `    ${JSON.stringify(row)}`).join(',\n');
  return `${headJson},\n  "rows": [\n${rowLines}\n  ]\n}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function checkRow(value: unknown, index: number): BaselineRow {
  const where = `rows[${index}]`;
  if (!isRecord(value)) throw new Error(`${where} is not an object`);
  for (const field of ['suite', 'case', 'impl'] as const) {
    if (typeof value[field] !== 'string') throw new Error(`${where}.${field} must be a string`);
  }
  if (!isPositive(value.nsPerOp)) throw new Error(`${where}.nsPerOp must be a positive number`);
  if (typeof value.noise !== 'number' || !Number.isFinite(value.noise) || value.noise < 0) {
    throw new Error(`${where}.noise must be a number ≥ 0`);
  }
  const runs = value.runs;
  if (!Array.isArray(runs) || runs.length === 0 || !runs.every(isPositive)) {
    throw new Error(`${where}.runs must be a non-empty list of positive numbers`);
  }
  return {
    suite: value.suite as string,
    case: value.case as string,
    impl: value.impl as string,
    nsPerOp: value.nsPerOp,
    noise: value.noise,
    runs,
  };
}

function checkMachine(value: unknown): MachineInfo {
  if (!isRecord(value)) throw new Error('machine must be an object');
  const { node, cpu, cpus, platform, arch } = value;
  if (typeof node !== 'string' || typeof cpu !== 'string' || typeof platform !== 'string') {
    throw new Error('machine.node, machine.cpu and machine.platform must be strings');
  }
  if (typeof arch !== 'string' || typeof cpus !== 'number') {
    throw new Error('machine.arch must be a string and machine.cpus a number');
  }
  return { node, cpu, cpus, platform, arch };
}

function checkSettings(value: unknown): RunSettings {
  if (!isRecord(value)) throw new Error('settings must be an object');
  const { timeMs, repeat, quick } = value;
  if (typeof timeMs !== 'number' || typeof repeat !== 'number' || typeof quick !== 'boolean') {
    throw new Error('settings needs timeMs (number), repeat (number) and quick (boolean)');
  }
  return { timeMs, repeat, quick };
}

/**
 * Reads the text of a baseline file, checking its shape. Throws an `Error` that says what is wrong (not
 * JSON, another version, a malformed row, the same row twice).
 */
export function parseBaseline(text: string): Baseline {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!isRecord(value)) throw new Error('a baseline is a JSON object');
  if (value.version !== BASELINE_VERSION) {
    throw new Error(
      `unsupported baseline version ${JSON.stringify(value.version)} (expected ${BASELINE_VERSION})`,
    );
  }
  if (typeof value.date !== 'string' || Number.isNaN(Date.parse(value.date))) {
    throw new Error('date must be an ISO 8601 time');
  }
  if (!Array.isArray(value.rows)) throw new Error('rows must be a list');
  const rows = value.rows.map(checkRow);
  const seen = new Set<string>();
  for (const row of rows) {
    const key = rowKey(row);
    if (seen.has(key)) throw new Error(`row ${row.suite} / ${row.case} / ${row.impl} appears twice`);
    seen.add(key);
  }
  return {
    version: BASELINE_VERSION,
    date: value.date,
    machine: checkMachine(value.machine),
    settings: checkSettings(value.settings),
    rows,
  };
}
