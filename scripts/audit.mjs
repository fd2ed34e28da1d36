#!/usr/bin/env node
/**
 * Dependency audit (`npm run audit`): `npm audit --json` over the production tree (`--omit=dev`) — any high
 * or critical advisory fails the run (exit 1) — and over the whole tree, dev tools included, for the record
 * only (it never fails the run). When the registry does not answer the audit endpoint (a mirror without
 * `/-/npm/v1/security/advisories/bulk`, no network), it prints one line, `audit: skipped — <reason>`, and
 * exits 0.
 *
 * Usage: `node scripts/audit.mjs [--prod-report <file> --dev-report <file>]` — the two options read saved
 * `npm audit --json` outputs instead of running npm (to check this script's decisions offline).
 */
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { readFileSync } from 'node:fs';
import process from 'node:process';

const FAILING = ['high', 'critical'];
const LEVELS = ['info', 'low', 'moderate', 'high', 'critical'];

/** Runs `npm audit --json` with `extra` flags; resolves to npm's stdout (JSON, whatever the exit code). */
function npmAudit(extra) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['audit', '--json', ...extra], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (result.error !== undefined) return { error: `npm audit could not run (${result.error.message})` };
  return { text: result.stdout };
}

/**
 * What one `npm audit --json` output says: `{ skipped: reason }` when the registry gave no audit,
 * else `{ counts, advisories }` with the count per severity and one line per vulnerable package.
 */
function readReport(text) {
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    return { skipped: 'npm audit printed no JSON report' };
  }
  if (report === null || typeof report !== 'object') return { skipped: 'npm audit printed no report' };
  if (report.error !== undefined || report.statusCode !== undefined || report.message !== undefined) {
    const status = report.statusCode === undefined ? '' : ` (HTTP ${String(report.statusCode)})`;
    const message = String(report.message ?? report.error?.summary ?? 'audit endpoint error').split('\n')[0];
    return { skipped: `the registry does not answer the audit endpoint${status}: ${message}` };
  }
  const counts = report.metadata?.vulnerabilities;
  if (counts === undefined || typeof counts !== 'object') {
    return { skipped: 'npm audit report has no metadata.vulnerabilities (unknown format)' };
  }
  const advisories = Object.values(report.vulnerabilities ?? {}).map((v) => {
    const via = (v.via ?? []).map((x) => (typeof x === 'string' ? x : (x.title ?? x.url ?? '?'))).join('; ');
    return { name: v.name, severity: v.severity, range: v.range, fixAvailable: Boolean(v.fixAvailable), via };
  });
  return { counts, advisories };
}

function summary(counts) {
  return LEVELS.map((level) => `${String(counts[level] ?? 0)} ${level}`).join(', ');
}

function option(name) {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

function main() {
  const prodFile = option('--prod-report');
  const devFile = option('--dev-report');
  const prodRun =
    prodFile === undefined ? npmAudit(['--omit=dev']) : { text: readFileSync(prodFile, 'utf8') };
  if (prodRun.error !== undefined) {
    console.log(`audit: skipped — ${prodRun.error}`);
    return 0;
  }
  const prod = readReport(prodRun.text);
  if (prod.skipped !== undefined) {
    console.log(`audit: skipped — ${prod.skipped}`);
    return 0;
  }

  const devRun = devFile === undefined ? npmAudit([]) : { text: readFileSync(devFile, 'utf8') };
  const dev = devRun.error === undefined ? readReport(devRun.text) : { skipped: devRun.error };

  console.log(`audit: production dependencies: ${summary(prod.counts)}`);
  for (const a of prod.advisories) {
    const fix = a.fixAvailable ? 'fix available' : 'no fix yet';
    console.log(`  ${a.severity.padEnd(8)} ${a.name} ${a.range ?? ''} — ${a.via} (${fix})`);
  }
  if (dev.skipped === undefined) {
    console.log(`audit: all dependencies, dev tools included (report only): ${summary(dev.counts)}`);
  } else {
    console.log(`audit: dev tree skipped — ${dev.skipped}`);
  }
  const failing = FAILING.reduce((sum, level) => sum + Number(prod.counts[level] ?? 0), 0);
  if (failing > 0) {
    console.log(`audit: FAILED — ${String(failing)} high or critical advisories in production dependencies`);
    return 1;
  }
  console.log('audit: ok — no high or critical advisories in production dependencies');
  return 0;
}

process.exitCode = main();
