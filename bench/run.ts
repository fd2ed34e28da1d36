/**
 * Entry point of `npm run bench [-- <suite>...] [--json | --markdown] [--quick] [--time <ms>]`: loads the
 * suites in `bench/suites/<name>.bench.ts`, runs their cases through the interleaving harness and prints
 * tables or JSON lines. With `--save <file>` or `--compare <file>` it runs the suites `--repeat` times and
 * writes a baseline, or compares with one (see baseline.ts, compare.ts).
 *
 * @module
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { format as prettierFormat, resolveConfig } from 'prettier';
import { parseArgs, USAGE, type BenchArgs } from './args.js';
import {
  createBaseline,
  formatBaseline,
  parseBaseline,
  summarizeRuns,
  type Baseline,
  type MachineInfo,
  type MeasuredRow,
} from './baseline.js';
import {
  compareRows,
  formatComparison,
  formatComparisonMarkdown,
  hasRegression,
  machineDifference,
} from './compare.js';
import {
  createSink,
  DEFAULT_HARNESS_OPTIONS,
  QUICK_HARNESS_OPTIONS,
  runCase,
  type CaseResult,
  type HarnessOptions,
  type Sink,
} from './harness.js';
import { DEFAULT_ASYNC_HARNESS_OPTIONS, QUICK_ASYNC_HARNESS_OPTIONS, runAsyncCase } from './harness-async.js';
import { formatMarkdown, formatNotes, formatTable, jsonRows, type JsonRow } from './report.js';
import { isAsyncCase, type AnyBenchCase, type Suite, type SuiteEnv } from './suite.js';

const SUITES_DIR = new URL('./suites/', import.meta.url);
const SUFFIX = '.bench.ts';

/** Names of the available suites, from the file names in `bench/suites/`, sorted. */
async function availableSuites(): Promise<string[]> {
  const files = await readdir(SUITES_DIR);
  return files
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length))
    .sort();
}

function isSuite(value: unknown): value is Suite {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    Array.isArray((value as { cases?: unknown }).cases)
  );
}

async function loadSuite(name: string, env: SuiteEnv): Promise<Suite> {
  const module = (await import(new URL(`${name}${SUFFIX}`, SUITES_DIR).href)) as { default?: unknown };
  const exported =
    typeof module.default === 'function' ? (module.default as (e: SuiteEnv) => unknown)(env) : module.default;
  if (!isSuite(exported)) {
    throw new TypeError(`bench/suites/${name}${SUFFIX} must export default defineSuite({ name, cases })`);
  }
  return exported;
}

function harnessOptions(args: BenchArgs, kind: 'sync' | 'async'): HarnessOptions {
  const base =
    kind === 'sync'
      ? args.quick
        ? QUICK_HARNESS_OPTIONS
        : DEFAULT_HARNESS_OPTIONS
      : args.quick
        ? QUICK_ASYNC_HARNESS_OPTIONS
        : DEFAULT_ASYNC_HARNESS_OPTIONS;
  return args.timeMs === undefined ? base : { ...base, timeMs: args.timeMs };
}

/**
 * Runs one case; `undefined` when an async case is unavailable here (PostgreSQL unreachable): skipped with
 * a warning, or an error in CI (`CI=true`), where every case must run.
 */
async function runAnyCase(
  benchCase: AnyBenchCase,
  args: BenchArgs,
  sink: Sink,
): Promise<CaseResult | undefined> {
  if (!isAsyncCase(benchCase)) return runCase(benchCase, harnessOptions(args, 'sync'), sink);
  const reason = await benchCase.unavailable();
  if (reason !== undefined) {
    if (process.env.CI === 'true') throw new Error(`case "${benchCase.name}" cannot run in CI: ${reason}`);
    process.stderr.write(`skipping case "${benchCase.name}": ${reason}\n`);
    return undefined;
  }
  return runAsyncCase(benchCase, harnessOptions(args, 'async'), sink);
}

function machineInfo(): MachineInfo {
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cpus: cpus().length,
    platform: process.platform,
    arch: process.arch,
  };
}

function describeMachine(info: MachineInfo): string {
  return `node ${info.node}, ${info.cpus} × ${info.cpu}, ${info.platform}/${info.arch}`;
}

function machine(): string {
  return `${describeMachine(machineInfo())}, ${new Date().toISOString()}`;
}

/** Runs the selected suites once and prints their tables or JSON lines (the plain `npm run bench`). */
async function printRun(selected: readonly string[], args: BenchArgs, sink: Sink): Promise<void> {
  const options = harnessOptions(args, 'sync');
  if (args.format !== 'json') {
    const mode = args.quick ? 'quick smoke run: numbers are NOT meaningful' : `${options.timeMs} ms per case`;
    process.stdout.write(`# bench — ${machine()} — ${mode}\n\n`);
  }
  for (const name of selected) {
    const suite = await loadSuite(name, { quick: args.quick });
    const results: CaseResult[] = [];
    for (const benchCase of suite.cases) {
      const result = await runAnyCase(benchCase, args, sink);
      if (result === undefined) continue;
      results.push(result);
      if (args.format === 'json') {
        for (const row of jsonRows(suite.name, result)) process.stdout.write(`${JSON.stringify(row)}\n`);
        if (result.notes !== undefined) process.stderr.write(`${result.case}:\n${result.notes}\n`);
      }
    }
    if (args.format === 'table') process.stdout.write(`${formatTable(suite.name, results)}\n\n`);
    if (args.format === 'markdown') process.stdout.write(`${formatMarkdown(suite.name, results)}\n\n`);
    const notes = args.format === 'json' ? '' : formatNotes(results, args.format);
    if (notes !== '') process.stdout.write(`${notes}\n`);
  }
}

/**
 * Runs the selected suites `args.repeat` times, one full pass after the other (so slow drift of the
 * machine spreads over the repeats instead of landing on one suite), with progress on stderr, and reduces
 * the passes to one median and noise band per row.
 */
async function measureRepeated(
  selected: readonly string[],
  args: BenchArgs,
  sink: Sink,
): Promise<MeasuredRow[]> {
  const runs: JsonRow[][] = [];
  for (let pass = 1; pass <= args.repeat; pass++) {
    const rows: JsonRow[] = [];
    for (const name of selected) {
      process.stderr.write(`run ${pass}/${args.repeat}: ${name}\n`);
      const suite = await loadSuite(name, { quick: args.quick });
      for (const benchCase of suite.cases) {
        const result = await runAnyCase(benchCase, args, sink);
        if (result !== undefined) rows.push(...jsonRows(suite.name, result));
      }
    }
    runs.push(rows);
  }
  return summarizeRuns(runs);
}

async function saveBaseline(file: string, selected: readonly string[], args: BenchArgs, sink: Sink) {
  const rows = await measureRepeated(selected, args, sink);
  const settings = { timeMs: harnessOptions(args, 'sync').timeMs, repeat: args.repeat, quick: args.quick };
  const baseline = createBaseline(rows, machineInfo(), settings, new Date());
  // Formatted as the repository's `prettier --check .` expects, so a refreshed baseline commits as is.
  const text = await prettierFormat(formatBaseline(baseline), {
    ...((await resolveConfig(file)) ?? {}),
    filepath: file,
  });
  await writeFile(file, text);
  process.stdout.write(
    `wrote ${rows.length} rows (${selected.join(', ')}; ${args.repeat} runs) to ${file}\n`,
  );
}

async function readBaseline(file: string): Promise<Baseline | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return `cannot read baseline ${file}: ${error instanceof Error ? error.message : String(error)}`;
  }
  try {
    return parseBaseline(text);
  } catch (error) {
    return `baseline ${file} is not valid: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Compares a repeated run with a baseline; exit code 1 on a regression with `--fail-on-regression`. */
async function compareWithBaseline(
  baseline: Baseline,
  file: string,
  selected: readonly string[],
  args: BenchArgs,
  sink: Sink,
): Promise<number> {
  const rows = compareRows(baseline, await measureRepeated(selected, args, sink), selected);
  if (args.format === 'json') {
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  } else {
    const then = baseline.settings;
    const runMode = (quick: boolean, timeMs: number, repeat: number): string =>
      `${quick ? 'quick (numbers NOT meaningful)' : `${timeMs} ms per case`} × ${repeat} runs`;
    const now = runMode(args.quick, harnessOptions(args, 'sync').timeMs, args.repeat);
    process.stdout.write(
      `# bench --compare ${file}\n` +
        `# baseline: ${baseline.date}, ${describeMachine(baseline.machine)}, ${runMode(then.quick, then.timeMs, then.repeat)}\n` +
        `# now:      ${new Date().toISOString()}, ${describeMachine(machineInfo())}, ${now}\n`,
    );
    const difference = machineDifference(baseline.machine, machineInfo());
    if (difference !== undefined) process.stdout.write(`# ${difference}\n`);
    process.stdout.write('\n');
    const text = args.format === 'markdown' ? formatComparisonMarkdown(rows) : formatComparison(rows);
    process.stdout.write(`${text}\n`);
    if (args.quick) {
      process.stdout.write(
        '(--quick: smoke-run numbers against a real baseline; the verdicts mean nothing)\n',
      );
    }
  }
  return args.failOnRegression && hasRegression(rows) ? 1 : 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.message}\n\n${USAGE}\n`);
    return 2;
  }
  const { args } = parsed;
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const available = await availableSuites();
  const unknown = args.suites.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
    return 2;
  }
  const selected =
    args.suites.length > 0 ? available.filter((name) => args.suites.includes(name)) : available;
  const sink = createSink();

  let code = 0;
  if (args.save !== undefined) await saveBaseline(args.save, selected, args, sink);
  else if (args.compare !== undefined) {
    // Read the baseline before measuring: a wrong path should not cost a full run.
    const baseline = await readBaseline(args.compare);
    if (typeof baseline === 'string') {
      process.stderr.write(`${baseline}\n`);
      return 2;
    }
    code = await compareWithBaseline(baseline, args.compare, selected, args, sink);
  } else await printRun(selected, args, sink);
  // Using the sink keeps every measured result observable, so V8 cannot eliminate the measured calls.
  process.stderr.write(`(sink: ${sink.batches} batches, last result ${typeof sink.last})\n`);
  return code;
}

process.exitCode = await main(process.argv.slice(2));
