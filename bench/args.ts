/**
 * Command-line arguments of `npm run bench`: suite names, `--json`, `--markdown`, `--quick`, `--time <ms>`,
 * and the regression checks `--save <file>`, `--compare <file>`, `--repeat <n>`, `--fail-on-regression`.
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
  /** `--save <file>`: write a baseline measured over {@link repeat} runs to this file. */
  readonly save: string | undefined;
  /** `--compare <file>`: compare a run over {@link repeat} runs with the baseline in this file. */
  readonly compare: string | undefined;
  /** Full runs of the selected suites for `--save` and `--compare` (default {@link DEFAULT_REPEAT}). */
  readonly repeat: number;
  /** With `--compare`: exit with code 1 when a row is slower beyond its noise band. */
  readonly failOnRegression: boolean;
}

/** Runs per `--save` or `--compare` when `--repeat` is not given. */
export const DEFAULT_REPEAT = 3;

/** The result of parsing: arguments, or a message explaining what is wrong. */
export type ParseResult =
  { readonly ok: true; readonly args: BenchArgs } | { readonly ok: false; readonly message: string };

/** Usage text printed by `--help` and after an argument error. */
export const USAGE = `usage: npm run bench -- [<suite>...] [--json | --markdown] [--quick] [--time <ms>]
                        [--save <file> | --compare <file> [--fail-on-regression]] [--repeat <n>]

  <suite>      run only these suites (default: all in bench/suites/)
  --json       one JSON object per line: {"suite","case","impl","opsPerSec","nsPerOp"} (+ "ratio","vs" on ours)
  --markdown   markdown tables (to paste into docs/benchmarks.md)
  --quick      smoke run: tiny fixed batches, 2 rounds; checks every case runs, numbers are not meaningful
  --time <ms>  measured time per case (default 1000)
  --save <file>     run the suites --repeat times; write per row the median ns/op and the noise band
                    (the repeats' max/min - 1, at least 5 %) to <file> (a baseline, e.g. bench/baseline.json)
  --compare <file>  run the suites --repeat times; print per row the baseline's and the new median, the
                    change, the baseline's noise band and a verdict: ok, faster, SLOWER (beyond the band),
                    new or missing (on one side only)
  --repeat <n>      full runs for --save or --compare (default ${DEFAULT_REPEAT})
  --fail-on-regression  with --compare: exit code 1 when a row is SLOWER (default: report only)`;

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return undefined;
  const ms = Number(value);
  return ms > 0 ? ms : undefined;
}

function parseRepeat(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

/** The value of an option given as `--name value` or `--name=value`, and the index of its last token. */
function optionValue(
  argv: readonly string[],
  i: number,
  name: string,
): { raw: string | undefined; next: number } {
  const arg = argv[i]!;
  return arg === name ? { raw: argv[i + 1], next: i + 1 } : { raw: arg.slice(name.length + 1), next: i };
}

function isOption(arg: string, name: string): boolean {
  return arg === name || arg.startsWith(`${name}=`);
}

/** Parses `argv` (without the node and script paths). */
export function parseArgs(argv: readonly string[]): ParseResult {
  const suites: string[] = [];
  let format: OutputFormat = 'table';
  let quick = false;
  let timeMs: number | undefined;
  let help = false;
  let save: string | undefined;
  let compare: string | undefined;
  let repeat: number | undefined;
  let failOnRegression = false;
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
    } else if (isOption(arg, '--save') || isOption(arg, '--compare')) {
      const name = arg.startsWith('--save') ? '--save' : '--compare';
      const { raw, next } = optionValue(argv, i, name);
      i = next;
      if (raw === undefined || raw === '' || raw.startsWith('-')) {
        return { ok: false, message: `${name} needs a file path, got "${raw ?? ''}"` };
      }
      if (name === '--save') save = raw;
      else compare = raw;
    } else if (isOption(arg, '--repeat')) {
      const { raw, next } = optionValue(argv, i, '--repeat');
      i = next;
      repeat = parseRepeat(raw);
      if (repeat === undefined)
        return { ok: false, message: `--repeat needs a whole number ≥ 1, got "${raw ?? ''}"` };
    } else if (arg === '--fail-on-regression') failOnRegression = true;
    else if (arg.startsWith('-')) return { ok: false, message: `unknown option "${arg}"` };
    else suites.push(arg);
  }
  if (save !== undefined && compare !== undefined) {
    return {
      ok: false,
      message: '--save and --compare cannot be combined: save a baseline, then compare with it',
    };
  }
  if (failOnRegression && compare === undefined) {
    return { ok: false, message: '--fail-on-regression needs --compare <file>' };
  }
  if (repeat !== undefined && save === undefined && compare === undefined) {
    return { ok: false, message: '--repeat needs --save <file> or --compare <file>' };
  }
  return {
    ok: true,
    args: {
      suites,
      format,
      quick,
      timeMs,
      help,
      save,
      compare,
      repeat: repeat ?? DEFAULT_REPEAT,
      failOnRegression,
    },
  };
}
