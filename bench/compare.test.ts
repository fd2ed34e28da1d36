import { describe, expect, it } from 'vitest';
import { createBaseline, type MeasuredRow } from './baseline.js';
import {
  compareRows,
  countVerdicts,
  formatComparison,
  formatComparisonMarkdown,
  formatSummary,
  hasRegression,
  machineDifference,
  verdictOf,
} from './compare.js';

const machine = { node: 'v20.20.0', cpu: 'Test CPU', cpus: 2, platform: 'linux', arch: 'x64' } as const;

function measured(suite: string, name: string, impl: string, nsPerOp: number, noise = 0.1): MeasuredRow {
  return { suite, case: name, impl, nsPerOp, noise, runs: [nsPerOp] };
}

const baseline = createBaseline(
  [
    measured('errors', 'create', 'ours', 100, 0.1),
    measured('errors', 'create', 'bare', 50, 0.05),
    measured('errors', 'wrap', 'ours', 200, 0.2),
    measured('context', 'get', 'ours', 10, 0.1),
    measured('registry', 'lookup', 'ours', 40, 0.1),
  ],
  machine,
  { timeMs: 1000, repeat: 3, quick: false },
  new Date('2026-11-29T12:00:00.000Z'),
);

describe('verdictOf', () => {
  it('is ok within the band, SLOWER or faster only beyond it', () => {
    expect(verdictOf(100, 110, 0.1)).toBe('ok');
    expect(verdictOf(100, 110.1, 0.1)).toBe('SLOWER');
    expect(verdictOf(100, 100 / 1.1, 0.1)).toBe('ok');
    expect(verdictOf(100, 90, 0.1)).toBe('faster');
    expect(verdictOf(100, 100, 0)).toBe('ok');
  });
});

describe('compareRows', () => {
  const current = [
    measured('errors', 'create', 'ours', 125),
    measured('errors', 'create', 'bare', 40),
    measured('errors', 'create', 'extra', 70),
    measured('context', 'get', 'ours', 10.5),
  ];

  it('gives each row the baseline, the new median, the change, the band and a verdict; new and missing rows by suite', () => {
    expect(compareRows(baseline, current, ['errors', 'context'])).toEqual([
      {
        suite: 'errors',
        case: 'create',
        impl: 'ours',
        baselineNs: 100,
        currentNs: 125,
        change: 0.25,
        noise: 0.1,
        verdict: 'SLOWER',
      },
      {
        suite: 'errors',
        case: 'create',
        impl: 'bare',
        baselineNs: 50,
        currentNs: 40,
        change: -0.2,
        noise: 0.05,
        verdict: 'faster',
      },
      {
        suite: 'errors',
        case: 'create',
        impl: 'extra',
        baselineNs: undefined,
        currentNs: 70,
        change: undefined,
        noise: undefined,
        verdict: 'new',
      },
      {
        suite: 'errors',
        case: 'wrap',
        impl: 'ours',
        baselineNs: 200,
        currentNs: undefined,
        change: undefined,
        noise: 0.2,
        verdict: 'missing',
      },
      {
        suite: 'context',
        case: 'get',
        impl: 'ours',
        baselineNs: 10,
        currentNs: 10.5,
        change: 0.05,
        noise: 0.1,
        verdict: 'ok',
      },
    ]);
  });

  it('reports baseline rows as missing only for suites that were run', () => {
    const rows = compareRows(baseline, [measured('context', 'get', 'ours', 10)], ['context']);
    expect(rows.map((r) => [r.suite, r.verdict])).toEqual([['context', 'ok']]);
    const skipped = compareRows(baseline, [], ['registry']);
    expect(skipped.map((r) => [r.suite, r.case, r.verdict])).toEqual([['registry', 'lookup', 'missing']]);
  });

  it('counts verdicts and finds regressions', () => {
    const rows = compareRows(baseline, current, ['errors', 'context']);
    expect(countVerdicts(rows)).toEqual({ ok: 1, faster: 1, SLOWER: 1, new: 1, missing: 1 });
    expect(hasRegression(rows)).toBe(true);
    expect(formatSummary(rows)).toBe('1 ok, 1 faster, 1 SLOWER, 1 new, 1 missing');
    const calm = compareRows(baseline, [measured('context', 'get', 'ours', 10.9)], ['context']);
    expect(hasRegression(calm)).toBe(false);
  });
});

describe('formatComparison', () => {
  const rows = compareRows(
    baseline,
    [measured('errors', 'create', 'ours', 125), measured('errors', 'create', 'bare', 2500)],
    ['errors'],
  );

  it('prints one aligned table per suite, the case on its first row, and the summary', () => {
    expect(formatComparison(rows).split('\n')).toEqual([
      '## errors',
      '',
      'case    impl  baseline ns/op  now ns/op    change   noise  verdict',
      '------  ----  --------------  ---------  --------  ------  -------',
      'create  ours           100.0      125.0    +25.0%  ±10.0%  SLOWER',
      '        bare            50.0      2,500  +4900.0%   ±5.0%  SLOWER',
      'wrap    ours           200.0          —         —  ±20.0%  missing',
      '',
      '0 ok, 0 faster, 2 SLOWER, 0 new, 1 missing',
    ]);
  });

  it('prints the same as markdown', () => {
    expect(formatComparisonMarkdown(rows).split('\n')).toEqual([
      '### errors',
      '',
      '| case | impl | baseline ns/op | now ns/op | change | noise | verdict |',
      '| --- | --- | ---: | ---: | ---: | ---: | --- |',
      '| create | ours | 100.0 | 125.0 | +25.0% | ±10.0% | SLOWER |',
      '|  | bare | 50.0 | 2,500 | +4900.0% | ±5.0% | SLOWER |',
      '| wrap | ours | 200.0 | — | — | ±20.0% | missing |',
      '',
      '0 ok, 0 faster, 2 SLOWER, 0 new, 1 missing',
    ]);
  });

  it('shows small times with two decimals and a new row without baseline numbers', () => {
    const text = formatComparison(compareRows(baseline, [measured('flags', 'eval', 'ours', 3.456)], []));
    expect(text).toContain('\neval  ours               —       3.46       —      —  new\n');
  });
});

describe('machineDifference', () => {
  it('is undefined on the same machine and names what differs otherwise', () => {
    expect(machineDifference(machine, { ...machine })).toBeUndefined();
    expect(machineDifference(machine, { ...machine, node: 'v22.1.0', cpus: 8, arch: 'arm64' })).toBe(
      'baseline from another machine: node v20.20.0 → v22.1.0; CPU 2 × Test CPU → 8 × Test CPU; linux/x64 → linux/arm64',
    );
  });
});
