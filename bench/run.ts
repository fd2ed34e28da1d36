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
} from './harness.js';
import { formatMarkdown, formatTable, jsonRows } from './report.js';
import type { Suite } from './suite.js';

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

async function loadSuite(name: string): Promise<Suite> {
  const module = (await import(new URL(`${name}${SUFFIX}`, SUITES_DIR).href)) as { default?: unknown };
  if (!isSuite(module.default)) {
    throw new TypeError(`bench/suites/${name}${SUFFIX} must export default defineSuite({ name, cases })`);
  }
  return module.default;
}

function harnessOptions(args: BenchArgs): HarnessOptions {
  const base = args.quick ? QUICK_HARNESS_OPTIONS : DEFAULT_HARNESS_OPTIONS;
  return args.timeMs === undefined ? base : { ...base, timeMs: args.timeMs };
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
  const options = harnessOptions(args);
  const sink = createSink();

  if (args.format !== 'json') {
    const mode = args.quick ? 'quick smoke run: numbers are NOT meaningful' : `${options.timeMs} ms per case`;
    process.stdout.write(`# bench — ${machine()} — ${mode}\n\n`);
  }
  for (const name of selected) {
    const suite = await loadSuite(name);
    const results: CaseResult[] = [];
    for (const benchCase of suite.cases) {
      const result = runCase(benchCase, options, sink);
      results.push(result);
      if (args.format === 'json') {
        for (const row of jsonRows(suite.name, result)) process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
    if (args.format === 'table') process.stdout.write(`${formatTable(suite.name, results)}\n\n`);
    if (args.format === 'markdown') process.stdout.write(`${formatMarkdown(suite.name, results)}\n\n`);
  }
  // Using the sink keeps every measured result observable, so V8 cannot eliminate the measured calls.
  process.stderr.write(`(sink: ${sink.batches} batches, last result ${typeof sink.last})\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
