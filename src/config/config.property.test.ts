/**
 * Properties of the config service under any sequence of operations — valid updates, invalid values,
 * forbidden, unknown and garbage paths, garbage input, batches (with unsets), rollbacks to any version,
 * dry runs, compare-and-set — on the memory store and on SQLite:
 * - the config always validates against the schema (and is the schema's output for itself);
 * - a refused operation changes nothing (same snapshot object, same version, same history);
 * - an applied one adds exactly one version; a dry run or a no-op adds none;
 * - the history is 1..N without gaps, each record's changes are the (redacted) diff of consecutive configs,
 *   and a rollback's config equals its target's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FoundationError } from '../errors/index.js';
import { Storage } from '../storage/index.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createConfig } from './config.js';
import { diffJson } from './model/diff.js';
import { compilePatterns } from './model/patterns.js';
import { createRedactor } from './model/redact.js';
import { createConfigVersionStore } from './stores/create-version-store.js';
import { MemoryConfigVersionStore } from './stores/memory-store.js';
import type { ConfigUpdateOptions, ConfigVersionStore } from './types.js';

const schema = z.object({
  limits: z
    .object({
      rps: z.number().int().positive().default(100),
      burst: z.number().int().min(0).max(1000).default(10),
    })
    .prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
  tags: z.array(z.string().max(20)).max(5).default([]),
  db: z
    .object({ host: z.string().default('localhost'), password: z.string().min(1).default('hunter2') })
    .prefault({}),
  feature: z
    .object({ enabled: z.boolean().default(false), ratio: z.number().min(0).max(1).optional() })
    .prefault({}),
});

const MUTABLE = ['limits.*', 'mode', 'tags', 'db.password', 'feature.**'];
const SECRETS = ['db.password'];
const redactor = createRedactor(compilePatterns(SECRETS));

/** Codes an operation may be refused with. */
const REFUSALS = new Set([
  'FND_CONFIG_INVALID_STRUCTURE',
  'FND_CONFIG_INVALID_PATH',
  'FND_CONFIG_INVALID_VALUE',
  'FND_CONFIG_OUT_OF_RANGE',
  'FND_CONFIG_VALUE_TOO_LARGE',
  'FND_CONFIG_UNKNOWN_PATH',
  'FND_CONFIG_UPDATE_FORBIDDEN',
  'FND_CONFIG_VERSION_CONFLICT',
  'FND_CONFIG_VERSION_NOT_FOUND',
]);

// ── operations ─────────────────────────────────────────────────────────────────────────────────────────

const validChange = fc.oneof(
  fc.record({ path: fc.constant('limits.rps'), value: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ path: fc.constant('limits.burst'), value: fc.integer({ min: 0, max: 1000 }) }),
  fc.record({ path: fc.constant('mode'), value: fc.constantFrom('fast', 'safe') }),
  fc.record({ path: fc.constant('tags'), value: fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }) }),
  fc.record({ path: fc.constant('db.password'), value: fc.string({ minLength: 1, maxLength: 12 }) }),
  fc.record({ path: fc.constant('feature.enabled'), value: fc.boolean() }),
  fc.record({ path: fc.constant('feature.ratio'), value: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    path: fc.constant('feature'),
    value: fc.record({ enabled: fc.boolean(), ratio: fc.double({ min: 0, max: 1, noNaN: true }) }),
  }),
  fc.record({
    path: fc.constant('limits'),
    value: fc.record({ rps: fc.integer({ min: 1, max: 9 }) }),
  }),
);

const invalidChange = fc.oneof(
  fc.record({
    path: fc.constant('limits.rps'),
    value: fc.oneof(fc.integer({ max: 0 }), fc.constant(1.5), fc.string(), fc.constant(null)),
  }),
  fc.record({ path: fc.constant('limits.burst'), value: fc.integer({ min: 1001 }) }),
  fc.record({ path: fc.constant('mode'), value: fc.string().filter((s) => s !== 'fast' && s !== 'safe') }),
  fc.record({ path: fc.constant('tags'), value: fc.array(fc.string(), { minLength: 6, maxLength: 8 }) }),
  fc.record({ path: fc.constant('db.password'), value: fc.constant('') }),
  fc.record({ path: fc.constant('feature.ratio'), value: fc.double({ min: 1.01, max: 10, noNaN: true }) }),
);

const forbiddenChange = fc.record({
  path: fc.constantFrom('db.host', 'db', 'limits.rps.deeper', 'nope'),
  value: fc.jsonValue({ maxDepth: 2 }),
});

const unknownChange = fc.record({
  path: fc.constantFrom('limits.nope', 'feature.nope', 'feature.deep.er'),
  value: fc.jsonValue({ maxDepth: 2 }),
});

const garbageChange = fc.record({ path: fc.anything(), value: fc.anything() });

const unsetChange = fc.record({
  path: fc.constantFrom('limits.rps', 'limits', 'mode', 'tags', 'feature.ratio', 'feature', 'db.host'),
  unset: fc.constant(true as const),
});

const anyChange = fc.oneof(
  { weight: 6, arbitrary: validChange },
  { weight: 2, arbitrary: invalidChange },
  { weight: 1, arbitrary: forbiddenChange },
  { weight: 1, arbitrary: unknownChange },
  { weight: 1, arbitrary: garbageChange },
  { weight: 2, arbitrary: unsetChange },
);

/** Options relative to the current version (`expectedDelta` 0 = the current version); mostly none. */
const options = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        dryRun: fc.boolean(),
        expectedDelta: fc.constantFrom(0, 0, 0, -1, 1),
        reason: fc.string({ maxLength: 20 }),
        actor: fc.string({ maxLength: 10 }),
      },
      { requiredKeys: [] },
    ),
  },
);

type Options = { dryRun?: boolean; expectedDelta?: number; reason?: string; actor?: string };

type Operation =
  | {
      readonly op: 'update';
      readonly change: { path: unknown; value?: unknown; unset?: true };
      readonly options: Options;
    }
  | { readonly op: 'batch'; readonly changes: unknown[]; readonly options: Options }
  | { readonly op: 'rollback'; readonly target: number; readonly options: Options }
  | { readonly op: 'garbage'; readonly input: unknown; readonly options: unknown };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('update' as const), change: anyChange, options }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('batch' as const),
      changes: fc.oneof(
        {
          weight: 3,
          arbitrary: fc.array(fc.oneof(validChange, unsetChange), { minLength: 1, maxLength: 4 }),
        },
        { weight: 1, arbitrary: fc.array(anyChange, { minLength: 1, maxLength: 4 }) },
      ),
      options,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('rollback' as const), target: fc.nat(40), options }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('garbage' as const),
      input: fc.anything(),
      options: fc.anything(),
    }),
  },
);

// ── the property ───────────────────────────────────────────────────────────────────────────────────────

function resolveOptions(given: Options, version: number): ConfigUpdateOptions {
  const { expectedDelta, ...rest } = given;
  return expectedDelta === undefined
    ? rest
    : { ...rest, expectedVersion: Math.max(0, version + expectedDelta) };
}

async function checkSequence(store: ConfigVersionStore, operations: readonly Operation[]): Promise<void> {
  const config = createConfig(
    { schema, mutable: MUTABLE, secrets: SECRETS },
    { store, clock: new FakeClock(), node: 'prop' },
  );
  await config.start();
  try {
    for (const operation of operations) {
      const before = config.snapshot();
      const version = config.version;
      let run: () => Promise<{ applied: boolean; version: number; changes: readonly unknown[] }>;
      let target: number | undefined;
      switch (operation.op) {
        case 'update': {
          const { change } = operation;
          run = () =>
            change.unset === true
              ? config.updateBatch([change as never], resolveOptions(operation.options, version))
              : config.update(
                  change.path as string,
                  change.value,
                  resolveOptions(operation.options, version),
                );
          break;
        }
        case 'batch':
          run = () =>
            config.updateBatch(operation.changes as never, resolveOptions(operation.options, version));
          break;
        case 'rollback':
          // Mostly an existing version, sometimes one that does not exist (yet).
          target = operation.target % 8 === 0 ? version + 1 : 1 + (operation.target % version);
          run = () => config.rollback(target ?? 0, resolveOptions(operation.options, version));
          break;
        case 'garbage':
          run = () => config.updateBatch(operation.input as never, operation.options as never);
          break;
      }
      let outcome: Awaited<ReturnType<typeof run>> | undefined;
      try {
        outcome = await run();
      } catch (error) {
        expect(error).toBeInstanceOf(FoundationError);
        expect(REFUSALS).toContain((error as FoundationError).code);
      }
      const latest = await store.latest();
      if (outcome === undefined || !outcome.applied) {
        // Refused, a dry run or a no-op: nothing changed.
        expect(config.snapshot()).toBe(before);
        expect(config.version).toBe(version);
        expect(latest?.version).toBe(version);
      } else {
        expect(config.version).toBe(version + 1);
        expect(outcome.version).toBe(version + 1);
        expect(latest?.version).toBe(version + 1);
        expect(latest?.config).toEqual(config.snapshot());
        expect(outcome.changes).toEqual(latest?.changes);
        if (target !== undefined) {
          expect(config.snapshot()).toEqual((await store.get(target))?.config);
        }
      }
      // Whatever happened, the config is valid: the schema's output for itself.
      const reparsed = schema.safeParse(config.snapshot());
      expect(reparsed.success).toBe(true);
      expect(reparsed.data).toEqual(config.snapshot());
    }

    // The history: 1..N without gaps; each record's changes are the diff of consecutive configs.
    const records = await store.since(0);
    expect(records.map((record) => record.version)).toEqual(
      Array.from({ length: config.version }, (_, i) => i + 1),
    );
    for (let i = 1; i < records.length; i += 1) {
      const previous = records[i - 1];
      const record = records[i];
      if (previous === undefined || record === undefined) throw new Error('unreachable');
      expect(record.changes).toEqual(redactor.redactChanges(diffJson(previous.config, record.config)));
      // (A version may change no value: pinning a value equal to the current one adds a runtime override.)
      if (record.changes.length === 0) expect(record.overrides).not.toEqual(previous.overrides);
    }
    expect(records.at(-1)?.config).toEqual(config.snapshot());
  } finally {
    await config.stop();
  }
}

describe('config properties: any sequence of operations', () => {
  it('memory store: valid config, gap-free history of diffs, refusals change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 40 }), async (operations) => {
        await checkSequence(new MemoryConfigVersionStore(), operations);
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('SQLite store: the same properties (fewer runs)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-prop-'));
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 30 }), async (operations) => {
          run += 1;
          const storage = new Storage(`sqlite:${join(dir, `run-${String(run)}.db`)}`);
          await storage.open();
          try {
            await checkSequence(createConfigVersionStore(storage), operations);
          } finally {
            await storage.close();
          }
        }),
        { numRuns: 20 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
