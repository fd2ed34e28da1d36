/**
 * Compares a run with a stored baseline (`npm run bench -- --compare <file>`): per suite, case and
 * implementation the baseline's median ns/op, the new median, the change and a verdict that calls a row
 * slower only when the change is beyond the baseline's measured noise band.
 *
 * @module
 */
import { rowKey, type Baseline, type BaselineRow, type MachineInfo, type MeasuredRow } from './baseline.js';

/**
 * What a row says: within the noise (`ok`), faster or slower beyond it, or present on one side only
 * (`new`: measured now, not in the baseline; `missing`: in the baseline, not measured now).
 */
export type Verdict = 'ok' | 'faster' | 'SLOWER' | 'new' | 'missing';

/** One row of a comparison. The numbers a side lacks (`new`, `missing`) are `undefined`. */
export interface ComparisonRow {
  readonly suite: string;
  readonly case: string;
  readonly impl: string;
  /** The baseline's median ns/op. */
  readonly baselineNs: number | undefined;
  /** This run's median ns/op. */
  readonly currentNs: number | undefined;
  /** `currentNs / baselineNs − 1`: 0.12 is 12 % slower, −0.1 is 10 % faster. */
  readonly change: number | undefined;
  /** The baseline's noise band (relative, 0.05 = 5 %). */
  readonly noise: number | undefined;
  readonly verdict: Verdict;
}

/**
 * The verdict for a baseline and a current ns/op with the baseline's noise band: `SLOWER` when the current
 * time exceeds the baseline by more than the band (`current > baseline × (1 + noise)`), `faster` when it is
 * below by as much in the other direction (`current < baseline ÷ (1 + noise)`), `ok` in between.
 */
export function verdictOf(baselineNs: number, currentNs: number, noise: number): 'ok' | 'faster' | 'SLOWER' {
  const ratio = currentNs / baselineNs;
  if (ratio > 1 + noise) return 'SLOWER';
  if (ratio < 1 / (1 + noise)) return 'faster';
  return 'ok';
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function matched(base: BaselineRow, current: MeasuredRow): ComparisonRow {
  return {
    suite: current.suite,
    case: current.case,
    impl: current.impl,
    baselineNs: base.nsPerOp,
    currentNs: current.nsPerOp,
    change: round(current.nsPerOp / base.nsPerOp - 1, 4),
    noise: base.noise,
    verdict: verdictOf(base.nsPerOp, current.nsPerOp, base.noise),
  };
}

/**
 * Compares the rows of this run with a baseline. Rows come in this run's order, each suite followed by its
 * baseline rows that were not measured (`missing`). Only suites in `suites` (the suites that were run) can
 * have missing rows: comparing one suite does not report every other suite of the baseline as missing.
 */
export function compareRows(
  baseline: Baseline,
  current: readonly MeasuredRow[],
  suites: readonly string[],
): ComparisonRow[] {
  const byKey = new Map(baseline.rows.map((row) => [rowKey(row), row] as const));
  const measured = new Set(current.map(rowKey));
  const out: ComparisonRow[] = [];
  const missingOf = (suite: string): ComparisonRow[] =>
    baseline.rows
      .filter((row) => row.suite === suite && !measured.has(rowKey(row)))
      .map((row) => ({
        suite: row.suite,
        case: row.case,
        impl: row.impl,
        baselineNs: row.nsPerOp,
        currentNs: undefined,
        change: undefined,
        noise: row.noise,
        verdict: 'missing',
      }));
  const order = [...new Set([...current.map((row) => row.suite), ...suites])];
  for (const suite of order) {
    for (const row of current.filter((r) => r.suite === suite)) {
      const base = byKey.get(rowKey(row));
      out.push(
        base === undefined
          ? {
              suite: row.suite,
              case: row.case,
              impl: row.impl,
              baselineNs: undefined,
              currentNs: row.nsPerOp,
              change: undefined,
              noise: undefined,
              verdict: 'new',
            }
          : matched(base, row),
      );
    }
    if (suites.includes(suite)) out.push(...missingOf(suite));
  }
  return out;
}

/** How many rows got each verdict. */
export function countVerdicts(rows: readonly ComparisonRow[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { ok: 0, faster: 0, SLOWER: 0, new: 0, missing: 0 };
  for (const row of rows) counts[row.verdict] += 1;
  return counts;
}

/** Whether any row is `SLOWER` (what `--fail-on-regression` turns into exit code 1). */
export function hasRegression(rows: readonly ComparisonRow[]): boolean {
  return rows.some((row) => row.verdict === 'SLOWER');
}

/** One line: `12 ok, 1 faster, 0 SLOWER, 0 new, 0 missing`. */
export function formatSummary(rows: readonly ComparisonRow[]): string {
  const counts = countVerdicts(rows);
  return (['ok', 'faster', 'SLOWER', 'new', 'missing'] as const)
    .map((verdict) => `${counts[verdict]} ${verdict}`)
    .join(', ');
}

/**
 * What differs between the baseline's machine and this one (Node version, CPU, core count, platform), as
 * a sentence; `undefined` when nothing does. A baseline from another machine compares only loosely.
 */
export function machineDifference(baseline: MachineInfo, current: MachineInfo): string | undefined {
  const diffs: string[] = [];
  if (baseline.node !== current.node) diffs.push(`node ${baseline.node} → ${current.node}`);
  if (baseline.cpu !== current.cpu || baseline.cpus !== current.cpus) {
    diffs.push(`CPU ${baseline.cpus} × ${baseline.cpu} → ${current.cpus} × ${current.cpu}`);
  }
  if (baseline.platform !== current.platform || baseline.arch !== current.arch) {
    diffs.push(`${baseline.platform}/${baseline.arch} → ${current.platform}/${current.arch}`);
  }
  return diffs.length === 0 ? undefined : `baseline from another machine: ${diffs.join('; ')}`;
}

function formatNs(ns: number | undefined): string {
  if (ns === undefined) return '—';
  if (ns < 10) return ns.toFixed(2);
  if (ns < 1000) return ns.toFixed(1);
  return Math.round(ns).toLocaleString('en-US');
}

function formatPercent(value: number | undefined, signed: boolean): string {
  if (value === undefined) return '—';
  const text = `${(value * 100).toFixed(1)}%`;
  return signed && value >= 0 ? `+${text}` : text;
}

const HEADER = ['case', 'impl', 'baseline ns/op', 'now ns/op', 'change', 'noise', 'verdict'] as const;
/** Columns aligned right (numbers); the others align left. */
const RIGHT = new Set([2, 3, 4, 5]);

function cells(rows: readonly ComparisonRow[]): string[][] {
  return rows.map((row, index) => [
    index > 0 && rows[index - 1]!.case === row.case ? '' : row.case,
    row.impl,
    formatNs(row.baselineNs),
    formatNs(row.currentNs),
    formatPercent(row.change, true),
    row.noise === undefined ? '—' : `±${formatPercent(row.noise, false)}`,
    row.verdict,
  ]);
}

function bySuite(rows: readonly ComparisonRow[]): Map<string, ComparisonRow[]> {
  const groups = new Map<string, ComparisonRow[]>();
  for (const row of rows) {
    const group = groups.get(row.suite);
    if (group === undefined) groups.set(row.suite, [row]);
    else group.push(row);
  }
  return groups;
}

/** Aligned text tables of a comparison, one per suite, followed by the summary line. */
export function formatComparison(rows: readonly ComparisonRow[]): string {
  const blocks: string[] = [];
  for (const [suite, group] of bySuite(rows)) {
    const body = cells(group);
    const widths = HEADER.map((title, col) => Math.max(title.length, ...body.map((r) => r[col]!.length)));
    const line = (row: readonly string[]): string =>
      row
        .map((cell, col) => (RIGHT.has(col) ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
        .join('  ')
        .trimEnd();
    const rule = widths.map((w) => '-'.repeat(w)).join('  ');
    blocks.push([`## ${suite}`, '', line(HEADER), rule, ...body.map(line)].join('\n'));
  }
  return [...blocks, formatSummary(rows)].join('\n\n');
}

/** The same tables as {@link formatComparison}, as markdown. */
export function formatComparisonMarkdown(rows: readonly ComparisonRow[]): string {
  const line = (row: readonly string[]): string => `| ${row.join(' | ')} |`;
  const align = HEADER.map((_, col) => (RIGHT.has(col) ? '---:' : '---'));
  const blocks = [...bySuite(rows)].map(([suite, group]) =>
    [`### ${suite}`, '', line(HEADER), line(align), ...cells(group).map(line)].join('\n'),
  );
  return [...blocks, formatSummary(rows)].join('\n\n');
}
