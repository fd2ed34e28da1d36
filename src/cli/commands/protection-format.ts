/**
 * Terminal rendering for `foundation protection`: the policies table of `GET /api/protection` (one row per
 * policy: its breaker state and a summary of every layer, outermost first), the one-line result of an
 * isolate or reset, and a rate-limit rule as text — read defensively from the control bus's JSON (unknown
 * shapes print as `-`). The limiters and pools tables are in `protection-limits-format.ts`.
 *
 * @module
 */
import { list, record, text, type Json } from '../json-read.js';
import { table } from '../ops-format.js';

/** `a/b` of two counts, `-` for a missing one. */
function ratio(a: unknown, b: unknown): string {
  return `${text(a)}/${text(b)}`;
}

/** `inUse/capacity` of a pool status, capacity being max + maxOverflow. */
function poolUse(status: Json): string {
  const { inUse, max, maxOverflow } = status;
  const capacity =
    typeof max === 'number' ? String(max + (typeof maxOverflow === 'number' ? maxOverflow : 0)) : '-';
  return `${text(inUse)}/${capacity}`;
}

/** `, 2 failed creations, drained` notes of a pool status ('' when healthy). */
function poolNotes(status: Json): string {
  const notes = [
    ...(typeof status.createFailures === 'number' && status.createFailures > 0
      ? [`${String(status.createFailures)} failed creation${status.createFailures === 1 ? '' : 's'}`]
      : []),
    ...(status.drained === true ? ['drained'] : []),
  ];
  return notes.map((note) => `, ${note}`).join('');
}

/** A duration in ms as `850ms`, `12s` or `3m20s`. */
export function shortDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
}

/** A window exactly: `1h`, `1m`, `90s` or `1500ms` (the largest unit that divides it). */
function windowText(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${String(ms / 3_600_000)}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${String(ms / 60_000)}m`;
  if (ms > 0 && ms % 1000 === 0) return `${String(ms / 1000)}s`;
  return `${String(ms)}ms`;
}

/** A rate-limit rule as `token_bucket 100/1m` (`burst 150` appended when it has one), `-` for no rule. */
export function ruleText(rule: unknown): string {
  const { algorithm, limit, windowMs, burst } = record(rule);
  if (typeof limit !== 'number' || typeof windowMs !== 'number') return '-';
  const base = `${text(algorithm)} ${String(limit)}/${windowText(windowMs)}`;
  return typeof burst === 'number' ? `${base} burst ${String(burst)}` : base;
}

/** Scalar fields of a layer status other than `kind`, as `key=value`. */
function scalarFields(layer: Json): string {
  const fields = Object.entries(layer)
    .filter(([key, value]) => key !== 'kind' && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => `${key}=${text(value)}`);
  return fields.length === 0 ? '' : ` ${fields.join(' ')}`;
}

/** One layer's live state on one line (`bulkhead 1/2 running, 0/1 queued`). */
export function layerText(layer: unknown): string {
  const status = record(layer);
  switch (status.kind) {
    case 'breaker': {
      const open = status.state === 'open' ? `, half-opens in ${shortDuration(status.retryAfterMs)}` : '';
      return `breaker ${text(status.state)} (${text(status.failures)} failures / ${text(status.calls)} calls${open})`;
    }
    case 'bulkhead':
      return `bulkhead ${ratio(status.running, status.maxConcurrent)} running, ${ratio(status.queued, status.maxQueue)} queued`;
    case 'adaptive':
      return `adaptive ${text(status.algorithm)} limit ${text(status.limit)}, ${text(status.inflight)} in flight, ${ratio(status.queued, status.maxQueue)} queued`;
    case 'rateLimit': {
      const which =
        status.shared === true ? `${text(status.limiter)} (shared)` : `${ruleText(status.rule)} (own)`;
      const waits = status.onLimit === 'wait' ? ', waits when limited' : '';
      return `rateLimit ${which} ${text(status.admitted)} admitted, ${text(status.refused)} refused${waits}`;
    }
    case 'pool':
      return `pool ${poolUse(status)} in use, ${text(status.waiting)} waiting${poolNotes(status)}`;
    default:
      return `${text(status.kind)}${scalarFields(status)}`;
  }
}

/** The breaker state of a policy listing, `-` without a breaker. */
function breakerState(layers: readonly Json[]): string {
  const breaker = layers.find((layer) => layer.kind === 'breaker');
  return breaker === undefined ? '-' : text(breaker.state);
}

/** The policies table of `GET /api/protection`. */
export function formatPolicies(body: unknown): string[] {
  const policies = list(record(body).policies);
  if (policies.length === 0) return ['No protection policies (configure foundation.protection).'];
  const rows = policies.map((policy) => {
    const layers = list(policy.layers);
    const notes = [
      ...(policy.configured === false ? ['(removed from config)'] : []),
      ...(policy.lastError === undefined
        ? []
        : [`(config not applied: ${text(record(policy.lastError).code)})`]),
    ];
    const summary = layers.length === 0 ? 'no layers' : layers.map(layerText).join(' · ');
    return [text(policy.name), breakerState(layers), [summary, ...notes].join(' ')];
  });
  return table(['POLICY', 'BREAKER', 'LAYERS'], rows);
}

/** The one-line result of `POST /api/protection/:name/isolate|reset`. */
export function formatAction(body: unknown): string[] {
  const { name, action, state } = record(body);
  const verb = action === 'isolate' ? 'isolated' : action === 'reset' ? 'reset' : text(action);
  return [`${verb} ${text(name)}: breaker ${text(state)}`];
}
