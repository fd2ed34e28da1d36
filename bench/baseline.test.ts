import { describe, expect, it } from 'vitest';
import {
  BASELINE_VERSION,
  createBaseline,
  formatBaseline,
  median,
  noiseBand,
  NOISE_FLOOR,
  parseBaseline,
  rowKey,
  summarizeRuns,
  type Baseline,
} from './baseline.js';
import type { JsonRow } from './report.js';

const machine = { node: 'v20.20.0', cpu: 'Test CPU', cpus: 2, platform: 'linux', arch: 'x64' } as const;
const settings = { timeMs: 1000, repeat: 3, quick: false } as const;

function row(suite: string, name: string, impl: string, nsPerOp: number): JsonRow {
  return { suite, case: name, impl, nsPerOp, opsPerSec: Math.round(1e9 / nsPerOp) };
}

describe('median', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even count', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('is NaN for no values and does not reorder its input', () => {
    expect(median([])).toBeNaN();
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('noiseBand', () => {
  it('is the relative spread max / min - 1 of the repeats', () => {
    expect(noiseBand([100, 120, 110])).toBe(0.2);
    expect(noiseBand([50, 80])).toBe(0.6);
  });

  it('is never below the floor, and is the floor for a single measurement', () => {
    expect(noiseBand([100, 101, 102])).toBe(NOISE_FLOOR);
    expect(noiseBand([100])).toBe(NOISE_FLOOR);
    expect(noiseBand([100, 101], 0.1)).toBe(0.1);
    expect(noiseBand([100, 101], 0)).toBe(0.01);
  });
});

describe('summarizeRuns', () => {
  it('reduces repeats to one median and noise band per suite/case/impl, in first-seen order', () => {
    const runs = [
      [
        row('errors', 'create', 'ours', 100),
        row('errors', 'create', 'bare', 50),
        row('context', 'get', 'ours', 10),
      ],
      [
        row('errors', 'create', 'ours', 130),
        row('errors', 'create', 'bare', 51),
        row('context', 'get', 'ours', 10),
      ],
      [
        row('errors', 'create', 'ours', 110),
        row('errors', 'create', 'bare', 52),
        row('context', 'get', 'ours', 11),
      ],
    ];
    expect(summarizeRuns(runs)).toEqual([
      { suite: 'errors', case: 'create', impl: 'ours', nsPerOp: 110, noise: 0.3, runs: [100, 130, 110] },
      { suite: 'errors', case: 'create', impl: 'bare', nsPerOp: 51, noise: NOISE_FLOOR, runs: [50, 51, 52] },
      { suite: 'context', case: 'get', impl: 'ours', nsPerOp: 10, noise: 0.1, runs: [10, 10, 11] },
    ]);
  });

  it('measures a row missing from some runs over the runs that have it', () => {
    const runs = [[row('events', 'pg append', 'ours', 2000)], [], [row('events', 'pg append', 'ours', 2400)]];
    expect(summarizeRuns(runs)).toEqual([
      { suite: 'events', case: 'pg append', impl: 'ours', nsPerOp: 2200, noise: 0.2, runs: [2000, 2400] },
    ]);
  });

  it('keeps rows apart whose names only look alike when joined', () => {
    const rows = summarizeRuns([[row('a', 'b/c', 'd', 1), row('a/b', 'c', 'd', 2)]]);
    expect(rows.map((r) => r.nsPerOp)).toEqual([1, 2]);
    expect(rowKey(rows[0]!)).not.toBe(rowKey(rows[1]!));
  });
});

describe('baseline files', () => {
  const date = new Date('2026-11-29T12:00:00.000Z');
  const baseline = createBaseline(
    summarizeRuns([[row('errors', 'create', 'ours', 100)], [row('errors', 'create', 'ours', 120)]]),
    machine,
    settings,
    date,
  );

  it('records version, date, machine, settings and rows', () => {
    expect(baseline).toEqual({
      version: BASELINE_VERSION,
      date: '2026-11-29T12:00:00.000Z',
      machine,
      settings,
      rows: [{ suite: 'errors', case: 'create', impl: 'ours', nsPerOp: 110, noise: 0.2, runs: [100, 120] }],
    });
  });

  it('round-trips through its file text, one row per line', () => {
    const text = formatBaseline(baseline);
    expect(parseBaseline(text)).toEqual(baseline);
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain(
      '\n    {"suite":"errors","case":"create","impl":"ours","nsPerOp":110,"noise":0.2,"runs":[100,120]}\n',
    );
    const empty = createBaseline([], machine, settings, date);
    expect(parseBaseline(formatBaseline(empty))).toEqual(empty);
  });

  function withChange(change: (value: Record<string, unknown>) => void): string {
    const value = JSON.parse(formatBaseline(baseline)) as Record<string, unknown>;
    change(value);
    return JSON.stringify(value);
  }

  function firstRow(value: Record<string, unknown>): Record<string, unknown> {
    return (value.rows as Record<string, unknown>[])[0]!;
  }

  it('refuses text that is not a baseline, saying what is wrong', () => {
    expect(() => parseBaseline('{')).toThrow(/^not JSON: /);
    expect(() => parseBaseline('[]')).toThrow('a baseline is a JSON object');
    expect(() => parseBaseline(withChange((v) => (v.version = 2)))).toThrow(
      'unsupported baseline version 2 (expected 1)',
    );
    expect(() => parseBaseline(withChange((v) => (v.date = 'yesterday')))).toThrow(
      'date must be an ISO 8601 time',
    );
    expect(() => parseBaseline(withChange((v) => (v.rows = {})))).toThrow('rows must be a list');
    expect(() => parseBaseline(withChange((v) => (v.machine = 'mine')))).toThrow('machine must be an object');
    expect(() => parseBaseline(withChange((v) => (v.machine = { ...machine, cpu: 1 })))).toThrow(
      'machine.node, machine.cpu and machine.platform must be strings',
    );
    expect(() => parseBaseline(withChange((v) => (v.machine = { ...machine, cpus: '2' })))).toThrow(
      'machine.arch must be a string and machine.cpus a number',
    );
    expect(() => parseBaseline(withChange((v) => (v.settings = null)))).toThrow('settings must be an object');
    expect(() => parseBaseline(withChange((v) => (v.settings = { timeMs: 1000, repeat: 3 })))).toThrow(
      'settings needs timeMs (number), repeat (number) and quick (boolean)',
    );
  });

  it('refuses malformed and duplicated rows, naming the row', () => {
    expect(() => parseBaseline(withChange((v) => (v.rows = [1])))).toThrow('rows[0] is not an object');
    expect(() => parseBaseline(withChange((v) => (firstRow(v).impl = 3)))).toThrow(
      'rows[0].impl must be a string',
    );
    expect(() => parseBaseline(withChange((v) => (firstRow(v).nsPerOp = 0)))).toThrow(
      'rows[0].nsPerOp must be a positive number',
    );
    expect(() => parseBaseline(withChange((v) => (firstRow(v).noise = -0.1)))).toThrow(
      'rows[0].noise must be a number ≥ 0',
    );
    expect(() => parseBaseline(withChange((v) => (firstRow(v).runs = [])))).toThrow(
      'rows[0].runs must be a non-empty list of positive numbers',
    );
    expect(() => parseBaseline(withChange((v) => (v.rows = [firstRow(v), firstRow(v)])))).toThrow(
      'row errors / create / ours appears twice',
    );
  });

  it('is not changed by a later change of the rows it was made from', () => {
    const measured = summarizeRuns([[row('errors', 'create', 'ours', 100)]]);
    const made: Baseline = createBaseline(measured, machine, settings, date);
    (measured[0]!.runs as number[]).push(999);
    expect(made.rows[0]!.runs).toEqual([100]);
  });
});
