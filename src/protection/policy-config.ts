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
  'breaker',
  'adaptive',
  'bulkhead',
  'hedge',
  'timeout',
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
