/**
 * Fuzz: config files. Random bytes, random JSON, random YAML-ish text and random variations of a valid
 * config are written to a watched config file, and the reload is triggered. Each reload either applies a
 * config the schema accepts (a new `file` version) or is refused with a catalog code — the config, its
 * version and its history exactly as before, the file state `invalid` — or changes nothing at all.
 *
 * The watcher is replaced by a trigger under the test's control and the reload queue is observed through its
 * `idle()`: no waiting on `fs.watch` timing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type * as ReloadsModule from '../../src/config/config-file-reloads.js';
import type { ManagedConfig } from '../../src/config/config-api.js';
import { createConfig } from '../../src/config/config.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { isErrorCode } from '../../src/errors/index.js';
import { fuzz, STACK_TRACE } from './fuzz.js';

/** What the mocks share with the test (hoisted with them). */
const control = vi.hoisted(() => ({
  onChange: undefined as (() => void) | undefined,
  idle: undefined as (() => Promise<void>) | undefined,
}));

vi.mock('../../src/config/file-watcher.js', () => ({
  FILE_SETTLE_MS: 50,
  watchConfigFile: (_path: string, _clock: unknown, onChange: () => void) => {
    control.onChange = onChange;
    return { close: () => undefined };
  },
}));

vi.mock('../../src/config/config-file-reloads.js', async (importOriginal) => {
  const actual = await importOriginal<typeof ReloadsModule>();
  class ObservedReloads extends actual.ConfigFileReloads {
    constructor(...args: ConstructorParameters<typeof actual.ConfigFileReloads>) {
      super(...args);
      control.idle = () => this.idle();
    }
  }
  return { ...actual, ConfigFileReloads: ObservedReloads };
});

const schema = z.object({
  limits: z.object({
    rps: z.number().int().positive(),
    burst: z.number().int().min(0).max(1000).default(10),
  }),
  mode: z.enum(['fast', 'safe']).default('safe'),
  tags: z.array(z.string()).max(5).default([]),
});

const MAX_FILE_BYTES = 4096;

/** Variations of a valid config: right shape, values that may or may not pass the schema. */
const nearValid = fc.record(
  {
    limits: fc.record(
      {
        rps: fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.double(), fc.string(), fc.constant(null)),
        burst: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.boolean()),
      },
      { requiredKeys: [] },
    ),
    mode: fc.oneof(fc.constantFrom('fast', 'safe'), fc.string({ maxLength: 6 })),
    tags: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 7 }), fc.jsonValue({ maxDepth: 1 })),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

const yamlish = fc
  .array(
    fc.oneof(
      fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 })).map(([k, v]) => `${k}: ${v}`),
      fc.constantFrom(
        'limits:',
        '  rps: 5',
        '  rps: &a 1',
        '  burst: *a',
        '- x',
        '---',
        '!!js/function "f"',
        '<<: *b',
        '? [a, b]',
        'mode: fast',
        '  - [',
        '\t',
        'a: 2001-12-14t21:59:43.10-05:00',
      ),
    ),
    { maxLength: 8 },
  )
  .map((lines) => lines.join('\n'));

/** File contents (JSON is YAML too, so every generator feeds both formats). */
const contents: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: nearValid.map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 2, arbitrary: fc.string().map((s) => Buffer.from(s)) },
  { weight: 3, arbitrary: yamlish.map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc.constant(Buffer.from(`{"limits":{"rps":1},"pad":"${'x'.repeat(MAX_FILE_BYTES)}"}`)),
  },
);

describe.each(['json', 'yaml'] as const)('fuzz: config files (.%s)', (format) => {
  let dir: string;
  let file: string;
  let config: ManagedConfig<z.infer<typeof schema>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fuzz-config-'));
    file = join(dir, `app.${format}`);
    await writeFile(file, format === 'json' ? '{"limits":{"rps":1}}' : 'limits:\n  rps: 1\n');
    config = createConfig(
      { schema, file, limits: { maxFileBytes: MAX_FILE_BYTES } },
      { clock: new FakeClock() },
    );
    await config.start();
    await control.idle?.();
  });
  afterAll(async () => {
    await config.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fuzz: config files — a reload applies a valid config or is refused with a catalog code, the old config intact', async (context) => {
    const outcomes = { applied: 0, refused: 0, unchanged: 0 };
    await fuzz(
      context,
      fc.asyncProperty(contents, async (bytes) => {
        const before = {
          version: config.version,
          snapshot: JSON.stringify(config.snapshot()),
          history: JSON.stringify(await config.history({ limit: 1000 })),
          lastError: config.status().lastError,
        };
        await writeFile(file, bytes);
        const trigger = control.onChange;
        const idle = control.idle;
        if (trigger === undefined || idle === undefined) throw new Error('the file is not watched');
        trigger();
        await idle();
        const status = config.status();
        const where = bytes.toString('utf8').slice(0, 200);
        if (config.version === before.version + 1) {
          outcomes.applied += 1;
          expect(status.fileState, where).toBe('ok');
          expect(schema.safeParse(config.snapshot()).success, where).toBe(true);
          const [latest] = await config.history({ limit: 1 });
          expect(latest?.kind, where).toBe('file');
          return;
        }
        expect(config.version, where).toBe(before.version);
        expect(JSON.stringify(config.snapshot()), where).toBe(before.snapshot);
        expect(JSON.stringify(await config.history({ limit: 1000 })), where).toBe(before.history);
        if (status.lastError !== before.lastError) {
          outcomes.refused += 1;
          expect(status.fileState, where).toBe('invalid');
          const code = status.lastError?.code;
          expect(isErrorCode(code), `${where}: ${String(code)}`).toBe(true);
          expect(status.lastError?.message, where).not.toMatch(STACK_TRACE);
          expect(config.health().status, where).toBe('degraded');
        } else {
          outcomes.unchanged += 1;
        }
      }),
    );
    expect(outcomes.applied).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
