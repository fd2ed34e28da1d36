/**
 * The foundation's own metrics: event-fed declarations over the telemetry events the capabilities already
 * emit (control bus, events, registry, supervisor, config, storage, telemetry). Define them in a registry
 * and call `attachEvents()`:
 *
 * ```ts
 * for (const definition of FOUNDATION_METRICS) registry.define(definition);
 * const detach = registry.attachEvents();
 * ```
 *
 * Tags are only those the events carry in their metadata (bounded ones: routes as patterns, service and
 * subscription names, catalog codes — never ids, versions, paths or messages).
 *
 * @module
 */
import type { MetricDefinition } from './types.js';

/** Bucket bounds (ms) of the foundation's duration distributions. */
export const DURATION_BUCKETS_MS: readonly number[] = Object.freeze([
  0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000,
]);

/** Bucket bounds of group sizes (events per group commit). */
export const GROUP_SIZE_BUCKETS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000,
]);

/** The foundation's event-fed metric declarations. */
export const FOUNDATION_METRICS: readonly MetricDefinition[] = Object.freeze([
  // control bus — `control_bus:request` { durationMs, statusCode } { method, route, status (class: 2xx…) }
  {
    name: 'foundation.control_bus.requests',
    kind: 'counter',
    event: 'control_bus:request',
    tags: ['method', 'route', 'status'],
    description: 'HTTP requests served by the control bus (status: 2xx, 4xx, 5xx…)',
  },
  {
    // By status class only: a handful of series, so the dashboard's request and 5xx rates are complete
    // (the recorder keeps at most 20 series of a metric; the method × route series above are more).
    name: 'foundation.control_bus.responses',
    kind: 'counter',
    event: 'control_bus:request',
    tags: ['status'],
    description: 'HTTP responses of the control bus, by status class (2xx, 3xx, 4xx, 5xx)',
  },
  {
    name: 'foundation.control_bus.request_duration',
    kind: 'distribution',
    unit: 'ms',
    event: 'control_bus:request',
    measurement: 'durationMs',
    tags: ['method', 'route'],
    buckets: DURATION_BUCKETS_MS,
    description: 'Control bus request durations',
  },
  {
    name: 'foundation.control_bus.request_latency',
    kind: 'summary',
    unit: 'ms',
    event: 'control_bus:request',
    measurement: 'durationMs',
    description: 'Control bus request latency quantiles over the last minute',
  },
  // events — `events:appended` { count, duration } { idempotent }
  {
    name: 'foundation.events.appended',
    kind: 'counter',
    event: 'events:appended',
    measurement: 'count',
    tags: ['idempotent'],
    description: 'Events appended (idempotent: a repeated append of stored ids)',
  },
  {
    name: 'foundation.events.append_duration',
    kind: 'distribution',
    unit: 'ms',
    event: 'events:appended',
    measurement: 'duration',
    buckets: DURATION_BUCKETS_MS,
    description: 'Duration of successful append calls',
  },
  {
    name: 'foundation.events.append_failures',
    kind: 'counter',
    event: 'events:append_failed',
    tags: ['code'],
    description: 'Failed append calls, by error code',
  },
  // `events:group_committed` { requests, events, duration }
  {
    name: 'foundation.events.group_commits',
    kind: 'counter',
    event: 'events:group_committed',
    description: 'Group commits (one transaction for several append requests)',
  },
  {
    name: 'foundation.events.group_commit_size',
    kind: 'distribution',
    event: 'events:group_committed',
    measurement: 'events',
    buckets: GROUP_SIZE_BUCKETS,
    description: 'Events per group commit',
  },
  {
    name: 'foundation.events.group_commit_duration',
    kind: 'distribution',
    unit: 'ms',
    event: 'events:group_committed',
    measurement: 'duration',
    buckets: DURATION_BUCKETS_MS,
    description: 'Duration of group commits',
  },
  // `events:subscription_lag` { lag, buffered, delivered } { name }
  {
    name: 'foundation.events.subscription_lag',
    kind: 'last_value',
    event: 'events:subscription_lag',
    measurement: 'lag',
    tags: ['name'],
    description: 'Events behind the head of the log, per live subscription',
  },
  {
    name: 'foundation.events.subscription_failures',
    kind: 'counter',
    event: 'events:subscription_failed',
    tags: ['name', 'code'],
    description: 'Live subscriptions that failed',
  },
  {
    name: 'foundation.events.projection_failures',
    kind: 'counter',
    event: 'events:projection_failed',
    tags: ['projection', 'code'],
    description: 'Projection failures',
  },
  {
    name: 'foundation.events.durable_dead_letters',
    kind: 'counter',
    event: 'events:durable_dead_lettered',
    tags: ['name'],
    description: 'Events a durable subscription moved to its dead letters',
  },
  {
    name: 'foundation.events.spool_depth',
    kind: 'last_value',
    event: 'events:spool_depth',
    measurement: 'events',
    description: 'Events waiting in the local spool',
  },
  // registry — `registry:registered` / `registry:unregistered` { count } { namespace, name }
  {
    name: 'foundation.registry.registrations',
    kind: 'counter',
    event: 'registry:registered',
    tags: ['namespace'],
    description: 'Services registered',
  },
  {
    name: 'foundation.registry.unregistrations',
    kind: 'counter',
    event: 'registry:unregistered',
    tags: ['namespace'],
    description: 'Services unregistered',
  },
  {
    name: 'foundation.registry.health_checks',
    kind: 'counter',
    event: 'registry:health_checked',
    tags: ['namespace', 'status'],
    description: 'Health checks run, by resulting status',
  },
  // supervisor — { restarts } / { count } { service, code }
  {
    name: 'foundation.supervisor.restarts',
    kind: 'counter',
    event: 'supervisor:restart',
    tags: ['service'],
    description: 'Service restarts by the supervisor',
  },
  {
    name: 'foundation.supervisor.failures',
    kind: 'counter',
    event: 'supervisor:service_failed',
    tags: ['service', 'code'],
    description: 'Supervised service failures',
  },
  {
    name: 'foundation.supervisor.escalations',
    kind: 'counter',
    event: 'supervisor:escalated',
    tags: ['service', 'code'],
    description: 'Failures past the restart intensity, escalated',
  },
  // config — `config:updated` { changes } { version, kind }, `config:refused` { count } { code }
  {
    name: 'foundation.config.updates',
    kind: 'counter',
    event: 'config:updated',
    tags: ['kind'],
    description: 'Config versions applied locally, by kind',
  },
  {
    name: 'foundation.config.refusals',
    kind: 'counter',
    event: 'config:refused',
    tags: ['code'],
    description: 'Config changes refused, by error code',
  },
  {
    name: 'foundation.config.reload_failures',
    kind: 'counter',
    event: 'config:reload_failed',
    tags: ['code'],
    description: 'Config file reloads that failed',
  },
  // protection — `protection:rejected` { count } { policy, layer, code }, `protection:limit_changed` { limit }
  // { policy } (policy names come from the config: bounded). `protection:admitted` is NOT declared here: it fires
  // on every call, and a subscriber makes each call build a message (~100 ns, measured: 2× cockatiel's whole
  // breaker overhead); it stays an opt-in event for whoever listens.
  {
    name: 'foundation.protection.rejections',
    kind: 'counter',
    event: 'protection:rejected',
    measurement: 'count',
    tags: ['policy', 'layer', 'code'],
    description: 'Calls refused by a protection layer, by policy, layer and code',
  },
  {
    name: 'foundation.protection.adaptive_limit',
    kind: 'last_value',
    event: 'protection:limit_changed',
    measurement: 'limit',
    tags: ['policy'],
    description: 'The concurrency limit of each adaptive layer',
  },
  // protection — `protection:breaker_state` {} { policy, from, to }
  {
    name: 'foundation.protection.breaker_transitions',
    kind: 'counter',
    event: 'protection:breaker_state',
    tags: ['policy', 'to'],
    description: 'Circuit breaker state changes, by policy and the state entered',
  },
  // protection — `protection:retry` { attempt, delayMs } { policy }, `protection:hedged` {} { policy }
  {
    name: 'foundation.protection.retries',
    kind: 'counter',
    event: 'protection:retry',
    tags: ['policy'],
    description: 'Retries started by the retry layers, by policy',
  },
  {
    name: 'foundation.protection.hedges',
    kind: 'counter',
    event: 'protection:hedged',
    tags: ['policy'],
    description: 'Hedged (extra) attempts started, by policy',
  },
  // protection — `protection:reconfigure_failed` { count } { policy, code }, `protection:event_failed` { count }
  {
    name: 'foundation.protection.reconfigure_failures',
    kind: 'counter',
    event: 'protection:reconfigure_failed',
    measurement: 'count',
    tags: ['policy', 'code'],
    description: 'Config changes a policy could not take (it kept its previous layers), by policy and code',
  },
  {
    name: 'foundation.protection.event_failures',
    kind: 'counter',
    event: 'protection:event_failed',
    measurement: 'count',
    description: 'Breaker state-change events that could not be appended after their retries',
  },
  // storage — `storage:pool_error` {} { store, message } (neither is a bounded tag)
  {
    name: 'foundation.storage.pool_errors',
    kind: 'counter',
    event: 'storage:pool_error',
    description: 'Errors reported by idle database pool connections',
  },
  // telemetry — `telemetry:handler_failed` { count } { event, error }
  {
    name: 'foundation.telemetry.handler_failures',
    kind: 'counter',
    event: 'telemetry:handler_failed',
    tags: ['event'],
    description: 'Telemetry handlers that threw (isolated, still subscribed)',
  },
]);
