/**
 * The foundation's own settings: the `foundation` section of every foundation's config, validated by a zod
 * schema with documented defaults, and {@link withFoundationSection}, which joins it to the user's schema so
 * both live in one config (one file, one set of environment variables, one version history).
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import { validateRetentionPolicies } from '../events/retention/index.js';
import { protectionConfigSchema, rateLimitsConfigSchema } from '../protection/index.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The `foundation` section. Every field has a default, so an empty section is valid.
 *
 * - `name` — this node's name (dashboard, version records). Default `foundation`.
 * - `dataDir` — local state directory. Default `./.foundation`.
 * - `store` — store URL; default `sqlite:<dataDir>/foundation.db`. Secret (a URL may carry a password).
 * - `controlBus` — `host` (127.0.0.1), `port` (4000), `token` (secret; mutating endpoints need it),
 *   `shutdownTimeoutMs` (10 000) — read by `foundation start`.
 * - `events.maxHealthyLag` — a live subscription further behind makes the `events` service degraded
 *   (10 000). Mutable at run time.
 * - `retention` — `policies` (docs/retention.md; absent: no retention service) and `intervalMs` (one hour)
 *   between runs; `createFoundation({ events: { retention } })` wins over them.
 * - `telemetry` — runtime metrics, in-memory series, Prometheus (`GET /metrics`), StatsD and OpenTelemetry
 *   exporters, export interval; mutable at run time (hot reload).
 * - `protection` — named protection policies (docs/protection.md): name → a policy with the optional
 *   layers `breaker`, `retry`, `timeout`, `deadline`, `bulkhead`, `hedge`, `adaptive`, `rateLimit`, `pool`
 *   and `order`; empty by default. Mutable at run time (hot reload).
 * - `rateLimits` — the named rate-limit rules (`rules`; default the original's `api_calls` 100/min,
 *   `db_queries` 500/min, `file_operations` 10/s; mutable) and where limiter state lives (`store`: `memory`,
 *   `storage` — the foundation's PostgreSQL store — or `redis` at `redisUrl`, a secret; read at creation).
 */
export const foundationSettingsSchema = z.object({
  name: z
    .string()
    .regex(NAME, 'a name of 1–64 letters, digits, dots, dashes or underscores')
    .default('foundation'),
  dataDir: z.string().min(1).max(4096).default('./.foundation'),
  store: z.string().max(4096).optional(),
  controlBus: z
    .object({
      host: z.string().min(1).max(255).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(4000),
      token: z.string().min(1).max(4096).optional(),
      shutdownTimeoutMs: z.number().int().positive().max(3_600_000).default(10_000),
    })
    .prefault({}),
  events: z
    .object({
      maxHealthyLag: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  retention: z
    .object({
      /** Retention policies (docs/retention.md); absent: no retention service. */
      policies: z
        .array(z.unknown())
        .optional()
        .superRefine((policies, context) => {
          if (policies === undefined) return;
          try {
            validateRetentionPolicies(policies);
          } catch (error) {
            context.addIssue({
              code: 'custom',
              message: error instanceof Error ? error.message : String(error),
            });
          }
        }),
      intervalMs: z.number().int().positive().default(3_600_000),
    })
    .prefault({}),
  protection: protectionConfigSchema,
  rateLimits: rateLimitsConfigSchema,
  telemetry: z
    .object({
      /** Event-loop delay and utilization, heap and RSS, GC pauses, active handles. */
      runtime: z
        .object({
          enabled: z.boolean().default(true),
          intervalMs: z.number().int().min(100).max(3_600_000).default(1000),
        })
        .prefault({}),
      /** The in-memory series behind the dashboard's charts and `GET /api/metrics`. */
      series: z
        .object({
          enabled: z.boolean().default(true),
          intervalMs: z.number().int().min(100).max(60_000).default(1000),
          maxSeriesPerMetric: z.number().int().min(1).max(1000).default(20),
        })
        .prefault({}),
      /** `GET /metrics` on the control bus. */
      prometheus: z
        .object({
          enabled: z.boolean().default(true),
          prefix: z
            .string()
            .regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/)
            .optional(),
        })
        .prefault({}),
      /** StatsD / DogStatsD over UDP. */
      statsd: z
        .object({
          enabled: z.boolean().default(false),
          host: z.string().min(1).max(255).default('127.0.0.1'),
          port: z.number().int().min(1).max(65535).default(8125),
          prefix: z.string().max(100).default(''),
          dogstatsd: z.boolean().default(false),
        })
        .prefault({}),
      /** Our metrics as observable instruments of the global OpenTelemetry meter provider. */
      otlp: z.object({ enabled: z.boolean().default(false) }).prefault({}),
      /** Interval of the push exporters (StatsD, OpenTelemetry), ms. */
      exportIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
    })
    .prefault({}),
});

/** The validated `foundation` section. */
export type FoundationSettings = z.output<typeof foundationSettingsSchema>;

/** The paths of the `foundation` section that may change at run time. */
export const FOUNDATION_MUTABLE_PATHS: readonly string[] = Object.freeze([
  'foundation.events.maxHealthyLag',
  'foundation.telemetry.**',
  'foundation.protection.**',
  'foundation.rateLimits.rules',
  'foundation.rateLimits.rules.**',
]);

/** The paths of the `foundation` section whose values are secret. */
export const FOUNDATION_SECRET_PATHS: readonly string[] = Object.freeze([
  'foundation.controlBus.token',
  'foundation.store',
  'foundation.rateLimits.redisUrl',
]);

/** The shape of a foundation's config: the user's output plus the `foundation` section. */
export type FoundationConfigShape<U = Record<string, unknown>> = Omit<U, 'foundation'> & {
  readonly foundation: FoundationSettings;
};

type Issue = StandardSchemaV1.Issue;

function prefixed(issues: readonly Issue[], key: string): Issue[] {
  return issues.map((issue) => ({ ...issue, path: [key, ...(issue.path ?? [])] }));
}

/**
 * A Standard Schema for `{ foundation: <settings>, ...user }`: the `foundation` key is validated by
 * {@link foundationSettingsSchema}, the rest by `user` (or passed through when there is none). Issues of
 * both are reported together.
 */
export function withFoundationSection<S extends StandardSchemaV1 | undefined>(
  user: S,
): StandardSchemaV1<
  unknown,
  FoundationConfigShape<
    S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : Record<string, unknown>
  >
> {
  type Output = FoundationConfigShape<
    S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : Record<string, unknown>
  >;
  const validate = (
    value: unknown,
  ): StandardSchemaV1.Result<Output> | Promise<StandardSchemaV1.Result<Output>> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { issues: [{ message: 'The configuration must be an object' }] };
    }
    const { foundation, ...rest } = value as Record<string, unknown>;
    const own = foundationSettingsSchema['~standard'].validate(foundation ?? {});
    const theirs = user === undefined ? { value: rest } : user['~standard'].validate(rest);
    if (own instanceof Promise || theirs instanceof Promise) {
      return Promise.all([own, theirs]).then(([a, b]) => combine(a, b));
    }
    return combine(own, theirs);
  };
  const combine = (
    own: StandardSchemaV1.Result<FoundationSettings>,
    theirs: StandardSchemaV1.Result<unknown>,
  ): StandardSchemaV1.Result<Output> => {
    const issues = [
      ...(own.issues === undefined ? [] : prefixed(own.issues, 'foundation')),
      ...(theirs.issues ?? []),
    ];
    if (issues.length > 0) return { issues };
    const userValue = (theirs as StandardSchemaV1.SuccessResult<unknown>).value;
    if (typeof userValue !== 'object' || userValue === null || Array.isArray(userValue)) {
      return { issues: [{ message: 'The user schema must produce an object' }] };
    }
    return {
      value: {
        ...userValue,
        foundation: (own as StandardSchemaV1.SuccessResult<FoundationSettings>).value,
      } as Output,
    };
  };
  return { '~standard': { version: 1, vendor: 'elixirscope-foundation', validate } };
}
