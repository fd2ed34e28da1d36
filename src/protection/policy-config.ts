/**
 * The config schema of one named protection policy (an entry of `foundation.protection`): which layers it has
 * and their options (times in ms), with the documented defaults filled in, and the order of its layers. The
 * fallback layer and failure predicates are code-only (`protect(name, { fallback, failures })`). A layer's own
 * validation (`FND_PROTECT_INVALID_POLICY`) still runs when the policy is built; this schema refuses at the
 * config's door what it can see (types, ranges, unknown keys, cross-field bounds, a bad `order`).
 *
 * @module
 */
import { z } from 'zod';
import { LAYER_ORDER, type LayerKind } from './types.js';

/** A policy name: 1–64 characters, lower-case letter first, then lower-case letters, digits, `_`, `.`, `-`. */
export const POLICY_NAME_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

/** The layer kinds a policy entry can configure (fallback is code-only). */
export const CONFIGURABLE_LAYERS = [
  'deadline',
  'retry',
  'rateLimit',
  'breaker',
  'adaptive',
  'bulkhead',
  'hedge',
  'timeout',
  'pool',
] as const satisfies readonly LayerKind[];

/** One kind of layer that config can set. */
export type ConfigurableLayer = (typeof CONFIGURABLE_LAYERS)[number];

const ms = (): z.ZodNumber => z.number().positive().max(86_400_000);
const count = (): z.ZodNumber => z.number().int().min(1).max(1_000_000);
const ratio = (): z.ZodNumber => z.number().gt(0).max(1);

/** Fills in a missing discriminator (`policy`, `kind`, `algorithm`) before the union looks at it. */
function withDefaultKey(key: string, value: string): (input: unknown) => unknown {
  return (input) =>
    typeof input === 'object' && input !== null && !Array.isArray(input) && !(key in input)
      ? { ...input, [key]: value }
      : input;
}

const breakerCommon = {
  openMs: ms().default(30_000),
  maxOpenMs: ms().optional(),
  halfOpen: z.strictObject({ probes: count().default(1), successThreshold: count().default(1) }).optional(),
  slowCallMs: ms().optional(),
};

const breakerUnion = z.discriminatedUnion('policy', [
  z.strictObject({
    policy: z.literal('consecutive'),
    threshold: count().default(5),
    ...breakerCommon,
  }),
  z.strictObject({
    policy: z.literal('count'),
    size: count().default(100),
    threshold: ratio().default(0.5),
    minimumCalls: count().default(20),
    ...breakerCommon,
  }),
  z.strictObject({
    policy: z.literal('sampling'),
    windowMs: ms().default(30_000),
    threshold: ratio().default(0.5),
    minimumRps: z.number().min(0).max(1_000_000).default(5),
    buckets: z.number().int().min(1).max(1000).default(10),
    ...breakerCommon,
  }),
]);

/** `breaker`: `policy` defaults to `consecutive`. */
export const breakerConfigSchema = z
  .preprocess(withDefaultKey('policy', 'consecutive'), breakerUnion)
  .superRefine((value, context) => {
    if (value.maxOpenMs !== undefined && value.maxOpenMs < value.openMs) {
      context.addIssue({ code: 'custom', path: ['maxOpenMs'], message: 'maxOpenMs must be at least openMs' });
    }
    if (value.policy === 'count' && value.minimumCalls > value.size) {
      context.addIssue({
        code: 'custom',
        path: ['minimumCalls'],
        message: 'minimumCalls must be at most size',
      });
    }
  });

const backoffUnion = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('constant'),
    delayMs: z.number().min(0).max(86_400_000).default(100),
    maxMs: ms().optional(),
  }),
  z.strictObject({
    kind: z.literal('exponential'),
    initialMs: ms().default(100),
    maxMs: ms().default(10_000),
    factor: z.number().min(1).max(100).default(2),
    jitter: z.boolean().optional(),
  }),
  z.strictObject({
    kind: z.literal('decorrelated'),
    initialMs: ms().default(100),
    maxMs: ms().default(10_000),
  }),
]);

/** `retry.backoff`: `kind` defaults to `exponential`. */
export const backoffConfigSchema = z
  .preprocess(withDefaultKey('kind', 'exponential'), backoffUnion)
  .superRefine((value, context) => {
    if (value.kind !== 'constant' && value.maxMs < value.initialMs) {
      context.addIssue({ code: 'custom', path: ['maxMs'], message: 'maxMs must be at least initialMs' });
    }
  });

/** `retry`. */
export const retryConfigSchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).default(3),
  backoff: backoffConfigSchema.default({ kind: 'exponential', initialMs: 100, maxMs: 10_000, factor: 2 }),
  budget: z
    .strictObject({
      ratio: ratio().default(0.1),
      windowMs: ms().default(10_000),
      minRetriesPerSecond: z.number().min(0).max(1_000_000).default(1),
    })
    .optional(),
});

/** `timeout` (per attempt). */
export const timeoutConfigSchema = z.strictObject({
  ms: ms().default(1000),
  mode: z.enum(['aggressive', 'cooperative']).optional(),
});

/** `deadline` (end to end, across retries and hedges). */
export const deadlineConfigSchema = z.strictObject({ ms: ms().default(5000) });

/** `bulkhead`. */
export const bulkheadConfigSchema = z.strictObject({
  maxConcurrent: count().default(10),
  maxQueue: z.number().int().min(0).max(1_000_000).default(0),
});

/** `hedge`. */
export const hedgeConfigSchema = z.strictObject({
  delayMs: z.number().min(0).max(86_400_000).default(100),
  maxHedges: z.number().int().min(0).max(10).default(1),
});

const adaptiveCommon = {
  initialLimit: count().default(20),
  minLimit: count().default(1),
  maxLimit: count().default(200),
  maxQueue: z.number().int().min(0).max(1_000_000).default(0),
  windowSamples: count().optional(),
};

const adaptiveUnion = z.discriminatedUnion('algorithm', [
  z.strictObject({
    algorithm: z.literal('aimd'),
    latencyThresholdMs: ms().optional(),
    backoffRatio: z.number().min(0.5).lt(1).optional(),
    ...adaptiveCommon,
  }),
  z.strictObject({
    algorithm: z.literal('vegas'),
    alpha: z.number().positive().optional(),
    beta: z.number().positive().optional(),
    threshold: z.number().min(0).optional(),
    smoothing: ratio().optional(),
    probeMultiplier: z.number().positive().max(100_000).optional(),
    ...adaptiveCommon,
  }),
  z.strictObject({
    algorithm: z.literal('gradient2'),
    tolerance: z.number().min(1).max(100).optional(),
    smoothing: ratio().optional(),
    longWindow: z.number().int().min(1).max(1_000_000).optional(),
    queueSize: z.number().int().min(0).max(1_000_000).optional(),
    ...adaptiveCommon,
  }),
]);

/** `adaptive`: `algorithm` defaults to `vegas`. */
export const adaptiveConfigSchema = z
  .preprocess(withDefaultKey('algorithm', 'vegas'), adaptiveUnion)
  .superRefine((value, context) => {
    if (!(value.minLimit <= value.initialLimit && value.initialLimit <= value.maxLimit)) {
      context.addIssue({
        code: 'custom',
        path: ['initialLimit'],
        message: 'the limits must satisfy minLimit ≤ initialLimit ≤ maxLimit',
      });
    }
  });

/** A rate-limit name (a rule of `foundation.rateLimits.rules`): the policy-name pattern. */
const ruleName = (): z.ZodString =>
  z.string().regex(POLICY_NAME_PATTERN, 'a rule name: a lower-case letter, then up to 63 of a-z 0-9 _ . -');

/**
 * One rate-limit rule: `limit` units per `windowMs` under `algorithm` (default `token_bucket`), `burst` the
 * bucket's capacity / GCRA's burst (default `limit`).
 */
export const rateLimitRuleSchema = z
  .strictObject({
    algorithm: z.enum(['token_bucket', 'gcra', 'sliding_window', 'fixed_window']).default('token_bucket'),
    limit: count(),
    windowMs: ms().int(),
    burst: count().optional(),
  })
  .superRefine((value, context) => {
    if (value.burst !== undefined && value.algorithm !== 'token_bucket' && value.algorithm !== 'gcra') {
      context.addIssue({
        code: 'custom',
        path: ['burst'],
        message: 'burst applies to token_bucket and gcra only',
      });
    }
  });

/** A validated rate-limit rule. */
export type RateLimitRuleConfig = z.output<typeof rateLimitRuleSchema>;

/**
 * `rateLimit`: either `rule` (a named rule of `foundation.rateLimits.rules`, whose limiter is shared by every
 * policy naming it) or an own rule (`limit`, `windowMs`, `algorithm?`, `burst?`). `onLimit`: `reject` (default:
 * refuse at once with `FND_PROTECT_LIMIT_EXCEEDED` and `retryAfterMs`) or `wait` (queue up to `maxWaitMs`,
 * default the rule's window, at most `maxQueue` waiters per key, default 1000).
 */
export const rateLimitConfigSchema = z
  .strictObject({
    rule: ruleName().optional(),
    algorithm: z.enum(['token_bucket', 'gcra', 'sliding_window', 'fixed_window']).optional(),
    limit: count().optional(),
    windowMs: ms().int().optional(),
    burst: count().optional(),
    onLimit: z.enum(['reject', 'wait']).default('reject'),
    maxWaitMs: ms().optional(),
    maxQueue: z.number().int().min(0).max(1_000_000).optional(),
  })
  .superRefine((value, context) => {
    const own = value.limit !== undefined || value.windowMs !== undefined;
    if (value.rule !== undefined) {
      for (const key of ['algorithm', 'limit', 'windowMs', 'burst'] as const) {
        if (value[key] !== undefined) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message: `give either rule or an own rule, not both ("${key}" with rule "${value.rule}")`,
          });
        }
      }
    } else if (!own || value.limit === undefined || value.windowMs === undefined) {
      context.addIssue({
        code: 'custom',
        path: value.limit === undefined ? ['limit'] : ['windowMs'],
        message: 'a rate limit needs rule, or both limit and windowMs',
      });
    }
    if (
      value.burst !== undefined &&
      value.algorithm !== undefined &&
      value.algorithm !== 'token_bucket' &&
      value.algorithm !== 'gcra'
    ) {
      context.addIssue({
        code: 'custom',
        path: ['burst'],
        message: 'burst applies to token_bucket and gcra only',
      });
    }
    if (value.onLimit === 'reject' && (value.maxWaitMs !== undefined || value.maxQueue !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['onLimit'],
        message: 'maxWaitMs and maxQueue apply when onLimit is "wait"',
      });
    }
  });

/**
 * `pool`: the sizes and times of the policy's resource pool (the resource itself — `create`, `destroy`,
 * `validate` — is code: `protect(name, { pool: { create, destroy } })`). `max` permanent resources (default 10),
 * `maxOverflow` extra ones under load (default 0), `min` kept warm (default 0), `acquireTimeoutMs` (default
 * 30 000), `idleTimeoutMs` (default 30 000), `maxLifetimeMs` (default none), `maxWaiting` (default no bound).
 */
export const poolConfigSchema = z
  .strictObject({
    max: count().default(10),
    min: z.number().int().min(0).max(1_000_000).default(0),
    maxOverflow: z.number().int().min(0).max(1_000_000).default(0),
    acquireTimeoutMs: z.number().min(0).max(86_400_000).default(30_000),
    idleTimeoutMs: ms().default(30_000),
    maxLifetimeMs: ms().optional(),
    maxWaiting: z.number().int().min(0).max(1_000_000).optional(),
  })
  .superRefine((value, context) => {
    if (value.min > value.max) {
      context.addIssue({ code: 'custom', path: ['min'], message: 'min must be at most max' });
    }
  });

/**
 * One named policy. Every layer is optional; `order` (outermost first) replaces the default order
 * {@link LAYER_ORDER} and must name every configured layer once (it may name `fallback` and unconfigured
 * layers, which are skipped).
 */
export const policyConfigSchema = z
  .strictObject({
    breaker: breakerConfigSchema.optional(),
    retry: retryConfigSchema.optional(),
    timeout: timeoutConfigSchema.optional(),
    deadline: deadlineConfigSchema.optional(),
    bulkhead: bulkheadConfigSchema.optional(),
    hedge: hedgeConfigSchema.optional(),
    adaptive: adaptiveConfigSchema.optional(),
    rateLimit: rateLimitConfigSchema.optional(),
    pool: poolConfigSchema.optional(),
    order: z.array(z.enum(LAYER_ORDER)).max(LAYER_ORDER.length).optional(),
  })
  .superRefine((value, context) => {
    const order = value.order;
    if (order === undefined) return;
    const seen = new Set<string>();
    for (const [index, kind] of order.entries()) {
      if (seen.has(kind)) {
        context.addIssue({ code: 'custom', path: ['order', index], message: `"${kind}" is listed twice` });
      }
      seen.add(kind);
    }
    for (const kind of CONFIGURABLE_LAYERS) {
      if (value[kind] !== undefined && !seen.has(kind)) {
        context.addIssue({
          code: 'custom',
          path: ['order'],
          message: `order must list every configured layer; "${kind}" is missing`,
        });
      }
    }
  });

/** The validated config of one named policy (defaults filled in). */
export type PolicyConfig = z.output<typeof policyConfigSchema>;

/** The `foundation.protection` section: policy name → policy. */
export const protectionConfigSchema = z
  .record(
    z
      .string()
      .regex(POLICY_NAME_PATTERN, 'a policy name: a lower-case letter, then up to 63 of a-z 0-9 _ . -'),
    policyConfigSchema,
  )
  .default({});

/** The validated `foundation.protection` section. */
export type ProtectionSettings = z.output<typeof protectionConfigSchema>;

/**
 * The original's `default_rules` (infrastructure.rate_limiting): `api_calls` 100 per minute, `db_queries` 500
 * per minute, `file_operations` 10 per second — token buckets.
 */
export const DEFAULT_RATE_LIMIT_RULES: Readonly<Record<string, RateLimitRuleConfig>> = Object.freeze({
  api_calls: Object.freeze({ algorithm: 'token_bucket', limit: 100, windowMs: 60_000 }),
  db_queries: Object.freeze({ algorithm: 'token_bucket', limit: 500, windowMs: 60_000 }),
  file_operations: Object.freeze({ algorithm: 'token_bucket', limit: 10, windowMs: 1000 }),
});

/**
 * The `foundation.rateLimits` section: the named rules (`rules`, default {@link DEFAULT_RATE_LIMIT_RULES};
 * mutable at run time) and where every limiter of the foundation keeps its state (`store`: `memory`, the
 * default — this process only; `storage` — the foundation's PostgreSQL store, shared by every node on it
 * (memory on SQLite, which is one machine); `redis` — the Redis server at `redisUrl`, a secret, keys under
 * `keyPrefix`, default `fnd:rl:`). `store`, `redisUrl` and `keyPrefix` are read at creation.
 */
export const rateLimitsConfigSchema = z
  .strictObject({
    store: z.enum(['memory', 'storage', 'redis']).default('memory'),
    redisUrl: z
      .string()
      .max(4096)
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    /** The prefix of the Redis keys (several applications may share one server). */
    keyPrefix: z.string().min(1).max(200).default('fnd:rl:'),
    rules: z.record(ruleName(), rateLimitRuleSchema).default({ ...DEFAULT_RATE_LIMIT_RULES }),
  })
  .superRefine((value, context) => {
    if (value.store === 'redis' && value.redisUrl === undefined) {
      context.addIssue({ code: 'custom', path: ['redisUrl'], message: 'store "redis" needs redisUrl' });
    }
  })
  .prefault({});

/** The validated `foundation.rateLimits` section. */
export type RateLimitsSettings = z.output<typeof rateLimitsConfigSchema>;

/** The layers of `config` in the order they run (outermost first), `fallback` included when `withFallback`. */
export function layerOrderOf(config: PolicyConfig, withFallback: boolean): LayerKind[] {
  const order: readonly LayerKind[] = config.order ?? LAYER_ORDER;
  const layers = order.filter((kind) =>
    kind === 'fallback' ? withFallback : (config as Record<string, unknown>)[kind] !== undefined,
  );
  // A code fallback missing from a configured order still goes outermost.
  if (withFallback && !layers.includes('fallback')) layers.unshift('fallback');
  return layers;
}
