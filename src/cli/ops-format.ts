/**
 * Terminal rendering for `foundation projections`, `foundation subscriptions` and `foundation retention`:
 * aligned tables from the control bus's JSON answers (read defensively: unknown shapes print as `-`).
 *
 * @module
 */
import { list, record, text, type Json } from './json-read.js';

/** Rows under headers, columns padded to their widest cell, two spaces apart. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((r) => (r[column] ?? '').length)));
  return all.map((r) =>
    r
      .map((cell, column) => (column === r.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** `position/target (NN%)` of a rebuild, or `-`. */
export function progressText(rebuild: unknown): string {
  const { position, target, ratio } = record(rebuild);
  if (typeof position !== 'number' || typeof target !== 'number' || typeof ratio !== 'number') return '-';
  return `${position}/${target} (${Math.floor(ratio * 100)}%)`;
}

function errorText(error: unknown): string {
  const { code, message } = record(error);
  if (typeof code !== 'string') return '-';
  return typeof message === 'string' ? `${code}: ${message}` : code;
}

/** The projections table of `GET /api/projections`. */
export function formatProjections(body: unknown): string[] {
  const projections = list(record(body).projections);
  if (projections.length === 0) return ['No projections.'];
  return table(
    ['NAME', 'MODE', 'STATE', 'POSITION', 'REBUILD', 'ERROR'],
    projections.map((p) => [
      text(p.name),
      text(p.mode),
      text(p.state),
      text(p.position),
      progressText(p.rebuild),
      errorText(p.error),
    ]),
  );
}

/** One projection (`GET /api/projections/:name`) as `key: value` lines. */
export function formatProjection(body: unknown): string[] {
  const p = record(body);
  return [
    `name:      ${text(p.name)}`,
    `mode:      ${text(p.mode)}`,
    `state:     ${text(p.state)}`,
    `position:  ${text(p.position)}`,
    `rebuild:   ${progressText(p.rebuild)}`,
    `error:     ${errorText(p.error)}`,
    `updated:   ${typeof p.updated === 'number' ? new Date(p.updated).toISOString() : '-'}`,
  ];
}

/** The two tables of `GET /api/subscriptions`: live, then durable. */
export function formatSubscriptions(body: unknown): string[] {
  const { live, durable } = record(body);
  const liveRows = list(live);
  const durableRows = list(durable);
  const lines: string[] = ['Live subscriptions:'];
  if (liveRows.length === 0) lines.push('  none');
  else {
    lines.push(
      ...table(
        ['NAME', 'STATE', 'POSITION', 'LAG', 'BUFFERED', 'DELIVERED'],
        liveRows.map((s) => [
          text(s.name),
          text(s.state),
          text(s.position),
          text(s.lag),
          text(s.buffered),
          text(s.delivered),
        ]),
      ).map((line) => `  ${line}`),
    );
  }
  lines.push('Durable subscriptions:');
  if (durableRows.length === 0) lines.push('  none');
  else {
    lines.push(
      ...table(
        ['NAME', 'MEMBER', 'STATE', 'HELD', 'LAG', 'HANDLED', 'ERROR'],
        durableRows.map((s) => [
          text(s.name),
          text(s.member),
          text(s.state),
          `${list(s.held).length}/${text(s.partitions)}`,
          text(s.lag),
          text(s.handled),
          errorText(s.error),
        ]),
      ).map((line) => `  ${line}`),
    );
  }
  return lines;
}

function policyText(policy: Json): string {
  const limits = [
    typeof policy.maxAgeMs === 'number' ? `maxAgeMs=${policy.maxAgeMs}` : undefined,
    typeof policy.maxCount === 'number' ? `maxCount=${policy.maxCount}` : undefined,
  ].filter((part) => part !== undefined);
  return `${text(policy.types)} ${limits.join(' ')}`.trimEnd();
}

/** The report of one retention run (`POST /api/retention/run` or the last report). */
export function formatRetentionReport(report: unknown): string[] {
  const r = record(report);
  const lines = [
    `deleted ${text(r.deleted)} events in ${text(r.batches)} batches (${text(r.durationMs)} ms)`,
  ];
  for (const outcome of list(r.policies)) {
    lines.push(
      `  ${text(outcome.types)}: ${text(outcome.deletedByAge)} by age, ${text(outcome.deletedByCount)} by count`,
    );
  }
  return lines;
}

/** `GET /api/retention` as lines. */
export function formatRetention(body: unknown): string[] {
  const r = record(body);
  if (r.configured !== true) return ['Retention is not configured on this node.'];
  const lines = [
    `scheduled: ${text(r.scheduled)}`,
    `running:   ${text(r.running)}`,
    'policies:',
    ...list(r.policies).map((policy) => `  ${policyText(policy)}`),
  ];
  if (r.lastReport === null || r.lastReport === undefined) lines.push('last run:  none');
  else {
    const report = record(r.lastReport);
    const when = typeof report.startedAt === 'number' ? new Date(report.startedAt).toISOString() : '-';
    lines.push(`last run:  ${when}`, ...formatRetentionReport(report).map((line) => `  ${line}`));
  }
  lines.push(`last error: ${errorText(r.lastError)}`);
  return lines;
}
