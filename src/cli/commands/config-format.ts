/**
 * Terminal rendering for `foundation config`: the current configuration, one path explained, the result of
 * a change (its diff and validation issues) and the history table, from the control bus's JSON answers
 * (read defensively: unknown shapes print as `-`).
 *
 * @module
 */
import { list, record, text } from '../json-read.js';
import { table } from '../ops-format.js';

/** Longest rendering of one value in a diff line or table cell. */
const MAX_VALUE_CHARS = 120;

/** A configuration value on one line: compact JSON, `(unset)` for a missing one, shortened past 120 chars. */
export function valueText(value: unknown): string {
  if (value === undefined) return '(unset)';
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) return '(unset)';
  return json.length > MAX_VALUE_CHARS ? `${json.slice(0, MAX_VALUE_CHARS - 1)}…` : json;
}

function time(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? new Date(value).toISOString() : '-';
}

/** `GET /api/config`: the version, the mutable patterns, then the configuration as indented JSON. */
export function formatConfig(body: unknown): string[] {
  const { version, mutable, config, status } = record(body);
  const patterns = Array.isArray(mutable) ? mutable.filter((p): p is string => typeof p === 'string') : [];
  const state = record(status);
  const lines = [
    `version:   ${text(version)}`,
    `mutable:   ${patterns.length === 0 ? 'none' : patterns.join(', ')}`,
  ];
  if (typeof state.fileState === 'string' && state.fileState !== 'none') {
    lines.push(`file:      ${text(state.file)} (${state.fileState})`);
  }
  if (typeof state.persisted === 'boolean') lines.push(`persisted: ${state.persisted ? 'yes' : 'no'}`);
  lines.push(...JSON.stringify(config ?? {}, null, 2).split('\n'));
  return lines;
}

/** `GET /api/config/explain`: the value, its source and each layer's value. */
export function formatExplain(body: unknown): string[] {
  const e = record(body);
  const origin =
    typeof e.envVar === 'string'
      ? ` (${e.envVar})`
      : typeof e.file === 'string' && e.source === 'file'
        ? ` (${e.file})`
        : '';
  const lines = [
    `path:      ${text(e.path)}`,
    `value:     ${valueText(e.value)}`,
    `source:    ${text(e.source)}${origin}`,
    `mutable:   ${e.mutable === true ? 'yes' : 'no'}`,
    `secret:    ${e.secret === true ? 'yes' : 'no'}`,
    `version:   ${text(e.version)}`,
  ];
  const layers = list(e.layers);
  if (layers.length > 0) {
    lines.push('layers:');
    for (const layer of layers) lines.push(`  ${text(layer.source).padEnd(8)} ${valueText(layer.value)}`);
  }
  return lines;
}

/** Each changed leaf as `path: old → new`. */
export function formatChanges(changes: unknown): string[] {
  return list(changes).map((c) => `  ${text(c.path)}: ${valueText(c.old)} → ${valueText(c.new)}`);
}

/**
 * The result of `POST /api/config` or `POST /api/config/rollback`: what happened (applied, dry run, no
 * change, invalid), the diff and the validation issues.
 */
export function formatUpdateResult(body: unknown): string[] {
  const r = record(body);
  const changes = list(r.changes);
  const lines: string[] = [];
  if (r.dryRun === true) {
    lines.push(
      r.valid === false
        ? `dry run against version ${text(r.version)}: invalid`
        : `dry run against version ${text(r.version)}: valid, ${changes.length} change${changes.length === 1 ? '' : 's'}`,
    );
  } else if (r.applied === true) {
    lines.push(`version ${text(r.previousVersion)} → ${text(r.version)}`);
  } else {
    lines.push(`no change (version ${text(r.version)})`);
  }
  lines.push(...formatChanges(changes));
  const issues = list(r.issues);
  if (issues.length > 0) {
    lines.push('issues:');
    for (const issue of issues) {
      lines.push(
        `  ${typeof issue.path === 'string' && issue.path !== '' ? issue.path : '(root)'}: ${text(issue.message)}`,
      );
    }
  }
  return lines;
}

function changedPaths(changes: unknown): string {
  const paths = list(changes).map((c) => text(c.path));
  if (paths.length === 0) return '-';
  const shownPaths = paths.slice(0, 3).join(', ');
  return paths.length > 3 ? `${shownPaths} (+${paths.length - 3})` : shownPaths;
}

/** `GET /api/config/history` as a table, newest first. */
export function formatHistory(body: unknown): string[] {
  const versions = list(record(body).versions);
  if (versions.length === 0) return ['No versions.'];
  return table(
    ['VERSION', 'AT', 'KIND', 'ACTOR', 'CHANGES', 'REASON'],
    versions.map((v) => [
      text(v.version),
      time(v.at),
      typeof v.rolledBackTo === 'number' ? `${text(v.kind)} to ${v.rolledBackTo}` : text(v.kind),
      text(v.actor),
      changedPaths(v.changes),
      text(v.reason),
    ]),
  );
}
