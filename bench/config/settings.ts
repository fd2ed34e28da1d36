/**
 * The configuration every implementation of the `config` suite reads: a realistic service configuration of
 * 50 leaves, nested three levels deep (`section.group.leaf`: 5 sections × 2 groups × 5 leaves), declared
 * once as a zod schema whose defaults are the values. Ours validates it; the peers get the exact JSON our
 * snapshot holds, so every side reads the same content.
 *
 * @module
 */
import { z } from 'zod';
import { createConfig, type ManagedConfig } from '../../src/config/index.js';
import type { ConfigPath, DeepReadonly } from '../../src/config/index.js';

/** A group of settings whose leaves all have defaults, so the group may be left out (`{}` then). */
const group = <S extends z.ZodRawShape>(shape: S) =>
  z.object(shape).prefault(() => ({}) as z.input<z.ZodObject<S>>);

/** The schema: every leaf has a default, so the schema alone gives the whole configuration. */
export const settingsSchema = z.object({
  server: group({
    http: group({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(1).max(65535).default(8080),
      keepAliveMs: z.number().int().min(0).default(5000),
      maxConnections: z.number().int().positive().default(1024),
      trustProxy: z.boolean().default(false),
    }),
    tls: group({
      enabled: z.boolean().default(true),
      certFile: z.string().default('/etc/app/tls/cert.pem'),
      keyFile: z.string().default('/etc/app/tls/key.pem'),
      minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
      sessionTimeoutS: z.number().int().positive().default(300),
    }),
  }),
  database: group({
    primary: group({
      host: z.string().default('db-primary.internal'),
      port: z.number().int().min(1).max(65535).default(5432),
      name: z.string().default('orders'),
      poolSize: z.number().int().positive().default(20),
      statementTimeoutMs: z.number().int().positive().default(30_000),
    }),
    replica: group({
      host: z.string().default('db-replica.internal'),
      port: z.number().int().min(1).max(65535).default(5432),
      name: z.string().default('orders'),
      poolSize: z.number().int().positive().default(10),
      lagToleranceMs: z.number().int().min(0).default(2000),
    }),
  }),
  cache: group({
    redis: group({
      host: z.string().default('redis.internal'),
      port: z.number().int().min(1).max(65535).default(6379),
      db: z.number().int().min(0).max(15).default(0),
      ttlS: z.number().int().positive().default(600),
      keyPrefix: z.string().default('orders:'),
    }),
    local: group({
      enabled: z.boolean().default(true),
      maxEntries: z.number().int().positive().default(10_000),
      ttlS: z.number().int().positive().default(60),
      evictionPolicy: z.enum(['lru', 'lfu', 'fifo']).default('lru'),
      statsIntervalMs: z.number().int().positive().default(10_000),
    }),
  }),
  limits: group({
    api: group({
      rps: z.number().int().positive().max(1_000_000).default(100),
      burst: z.number().int().min(0).default(200),
      maxBodyBytes: z.number().int().positive().default(1_048_576),
      timeoutMs: z.number().int().positive().default(15_000),
      concurrency: z.number().int().positive().default(64),
    }),
    jobs: group({
      workers: z.number().int().positive().default(4),
      maxAttempts: z.number().int().positive().default(5),
      backoffMs: z.number().int().positive().default(1000),
      visibilityTimeoutS: z.number().int().positive().default(30),
      batchSize: z.number().int().positive().default(50),
    }),
  }),
  observability: group({
    logging: group({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['json', 'pretty']).default('json'),
      redact: z.array(z.string()).default(['password', 'token', 'authorization']),
      sampleRate: z.number().min(0).max(1).default(1),
      includeStack: z.boolean().default(true),
    }),
    metrics: group({
      enabled: z.boolean().default(true),
      prefix: z.string().default('orders_'),
      intervalMs: z.number().int().positive().default(15_000),
      histogramBuckets: z.array(z.number()).default([0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
      port: z.number().int().min(1).max(65535).default(9464),
    }),
  }),
});

/** The configuration's type. */
export type Settings = z.output<typeof settingsSchema>;

/** The leaf the `update` case changes at run time (the only mutable path). */
export const MUTABLE_PATH = 'limits.api.rps';

/** Creates our config (not started: reads work before `start()`; changes need it). */
export function createSettingsConfig(): ManagedConfig<Settings> {
  return createConfig({ schema: settingsSchema, mutable: [MUTABLE_PATH] });
}

/**
 * The leaves every `get` case cycles over, in every section and of every kind (numbers, strings, booleans,
 * an enum), so no side benefits from one hot path.
 */
export const LEAF_PATHS = [
  'server.http.port',
  'database.primary.poolSize',
  'cache.redis.ttlS',
  'limits.api.rps',
  'observability.logging.level',
  'server.tls.enabled',
  'database.replica.host',
  'limits.jobs.maxAttempts',
] as const satisfies readonly ConfigPath<Settings>[];

/** The sections the section case cycles over (each holds 2 groups of 5 leaves). */
export const SECTION_PATHS = [
  'server',
  'database',
  'cache',
  'limits',
  'observability',
] as const satisfies readonly ConfigPath<Settings>[];

/**
 * The leaves of {@link LEAF_PATHS} read with static property accesses, as hot code reads a snapshot
 * (`snapshot.server.http.port`): the i-th access for `i % 8`. A `switch`, not an array of accessor
 * functions, so the read itself is what is measured, not an indirect call.
 */
export function readLeaf(s: DeepReadonly<Settings>, i: number): unknown {
  switch (i & 7) {
    case 0:
      return s.server.http.port;
    case 1:
      return s.database.primary.poolSize;
    case 2:
      return s.cache.redis.ttlS;
    case 3:
      return s.limits.api.rps;
    case 4:
      return s.observability.logging.level;
    case 5:
      return s.server.tls.enabled;
    case 6:
      return s.database.replica.host;
    default:
      return s.limits.jobs.maxAttempts;
  }
}
