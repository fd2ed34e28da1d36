/**
 * Command-line arguments of `npm run bench`: suite names, `--json`, `--markdown`, `--quick`, `--time <ms>`.
 *
 * @module
 */

/** Output formats: aligned text tables, one JSON object per line, or markdown tables (for docs). */
export type OutputFormat = 'table' | 'json' | 'markdown';

/** Parsed arguments. */
export interface BenchArgs {
  /** Suites to run; empty means all. */
  readonly suites: readonly string[];
  readonly format: OutputFormat;
  /** Smoke run: tiny fixed batches, numbers not meaningful. */
  readonly quick: boolean;
  /** Measured time per case in ms, when given. */
  readonly timeMs: number | undefined;
  readonly help: boolean;
}

/** The result of parsing: arguments, or a message explaining what is wrong. */
export type ParseResult =
  { readonly ok: true; readonly args: BenchArgs } | { readonly ok: false; readonly message: string };

/** Usage text printed by `--help` and after an argument error. */
export const USAGE = `usage: npm run bench -- [<suite>...] [--json | --markdown] [--quick] [--time <ms>]

  <suite>      run only these suites (default: all in bench/suites/)
  --json       one JSON object per line: {"suite","case","impl","opsPerSec","nsPerOp"} (+ "ratio","vs" on ours)
  --markdown   markdown tables (to paste into docs/benchmarks.md)
  --quick      smoke run: tiny fixed batches, 2 rounds; checks every case runs, numbers are not meaningful
  --time <ms>  measured time per case (default 1000)`;

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return undefined;
  const ms = Number(value);
  return ms > 0 ? ms : undefined;
}

/** Parses `argv` (without the node and script paths). */
export function parseArgs(argv: readonly string[]): ParseResult {
  const suites: string[] = [];
  let format: OutputFormat = 'table';
  let quick = false;
  let timeMs: number | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') format = 'json';
    else if (arg === '--markdown') format = 'markdown';
    else if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--time' || arg.startsWith('--time=')) {
      const raw = arg === '--time' ? argv[++i] : arg.slice('--time='.length);
      timeMs = parseTime(raw);
      if (timeMs === undefined)
        return { ok: false, message: `--time needs a positive number of ms, got "${raw ?? ''}"` };
    } else if (arg.startsWith('-')) return { ok: false, message: `unknown option "${arg}"` };
    else suites.push(arg);
  }
  return { ok: true, args: { suites, format, quick, timeMs, help } };
}
