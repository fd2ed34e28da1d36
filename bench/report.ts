/**
 * Turns case results into output: ratios, JSON lines (the stable format compared over time) and aligned
 * human tables.
 *
 * @module
 */
import type { CaseResult, ImplResult } from './harness.js';

/**
 * One line of `--json` output. `ratio` (our ns/op ÷ the reference's ns/op; below 1 means we are faster) and
 * `vs` (the reference impl: the first non-`ours` impl of the case) appear on our rows only.
 */
export interface JsonRow {
  readonly suite: string;
  readonly case: string;
  readonly impl: string;
  readonly opsPerSec: number;
  readonly nsPerOp: number;
  readonly ratio?: number;
  readonly vs?: string;
}

/** Our ns/op divided by each non-`ours` implementation's ns/op, in declaration order. */
export function ratios(result: CaseResult, ours: ImplResult): { impl: string; ratio: number }[] {
  return result.results
    .filter((other) => other.role !== 'ours')
    .map((other) => ({ impl: other.impl, ratio: ours.nsPerOp / other.nsPerOp }));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The JSON rows of one case, one per implementation. */
export function jsonRows(suite: string, result: CaseResult): JsonRow[] {
  return result.results.map((row) => {
    const base = {
      suite,
      case: result.case,
      impl: row.impl,
      opsPerSec: Math.round(row.opsPerSec),
      nsPerOp: round(row.nsPerOp, 3),
    };
    const reference = row.role === 'ours' ? ratios(result, row)[0] : undefined;
    return reference === undefined ? base : { ...base, ratio: round(reference.ratio, 3), vs: reference.impl };
  });
}

function formatNs(ns: number): string {
  if (ns < 10) return ns.toFixed(2);
  if (ns < 1000) return ns.toFixed(1);
  return Math.round(ns).toLocaleString('en-US');
}

function formatRatio(result: CaseResult, row: ImplResult): string {
  if (row.role !== 'ours') return '';
  const all = ratios(result, row);
  if (all.length === 1) return all[0]!.ratio.toFixed(2);
  return all.map((r) => `${r.ratio.toFixed(2)} vs ${r.impl}`).join(', ');
}

const HEADER = ['case', 'impl', 'ops/s', 'ns/op', '±', 'rounds', 'ratio'] as const;
/** Columns aligned right (numbers); the others align left. */
const RIGHT = new Set([2, 3, 4, 5]);

function tableRows(results: readonly CaseResult[]): string[][] {
  const rows: string[][] = [];
  for (const result of results) {
    result.results.forEach((row, index) => {
      rows.push([
        index === 0 ? result.case : '',
        row.impl,
        Math.round(row.opsPerSec).toLocaleString('en-US'),
        formatNs(row.nsPerOp),
        `${(row.spread * 100).toFixed(1)}%`,
        String(row.rounds),
        formatRatio(result, row),
      ]);
    });
  }
  return rows;
}

/**
 * An aligned text table of one suite's results. `ratio` is on our rows: our ns/op ÷ the peer's (with
 * several peers, one ratio per peer); `±` is half the interquartile range of the rounds, relative to the
 * median.
 */
export function formatTable(suite: string, results: readonly CaseResult[]): string {
  const rows = tableRows(results);
  const widths = HEADER.map((title, col) => Math.max(title.length, ...rows.map((r) => r[col]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, col) => (RIGHT.has(col) ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [`## ${suite}`, '', line(HEADER), rule, ...rows.map(line)].join('\n');
}

/** The same table as {@link formatTable}, as markdown. */
export function formatMarkdown(suite: string, results: readonly CaseResult[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const align = HEADER.map((_, col) => (RIGHT.has(col) ? '---:' : '---'));
  return [`### ${suite}`, '', line(HEADER), line(align), ...tableRows(results).map(line)].join('\n');
}

/**
 * The notes of a suite's cases (e.g. query plans), one block per case that has some: a heading and the
 * text as is (`table`), or a heading and a fenced block (`markdown`). Empty when no case has notes.
 */
export function formatNotes(results: readonly CaseResult[], format: 'table' | 'markdown'): string {
  const blocks = results
    .filter((result) => result.notes !== undefined)
    .map((result) =>
      format === 'markdown'
        ? `#### ${result.case}\n\n\`\`\`text\n${result.notes ?? ''}\n\`\`\`\n`
        : `-- ${result.case}\n${result.notes ?? ''}\n`,
    );
  return blocks.join('\n');
}
