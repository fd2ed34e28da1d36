/**
 * Entry point of `npm run bench [-- <suite>...] [--json | --markdown] [--quick] [--time <ms>]`: loads the
 * suites in `bench/suites/<name>.bench.ts`, runs their cases through the interleaving harness and prints
 * tables or JSON lines.
 *
 * @module
 */
import { readdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs, USAGE, type BenchArgs } from './args.js';
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
import { formatMarkdown, formatNotes, formatTable, jsonRows } from './report.js';
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

function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `node ${process.version}, ${cpus().length} × ${cpu}, ${process.platform}/${process.arch}, ${new Date().toISOString()}`;
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
  const options = harnessOptions(args, 'sync');
  const sink = createSink();

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
  // Using the sink keeps every measured result observable, so V8 cannot eliminate the measured calls.
  process.stderr.write(`(sink: ${sink.batches} batches, last result ${typeof sink.last})\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
