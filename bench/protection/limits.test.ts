import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../src/errors/index.js';
import type { RateLimiter } from '../../src/protection/rate-limit/limiter.js';
import type { RateLimitDecision } from '../../src/protection/rate-limit/types.js';
import { describePg } from '../../test/helpers/postgres.js';
import { describeRedis } from '../../test/helpers/redis.js';
import { pgRun } from '../events/pg-env.js';
import type { ImplResult } from '../harness.js';
import {
  BENCH_LIMIT,
  benchKeys,
  benchRule,
  flexibleMemory,
  flexiblePostgres,
  flexibleRedis,
  formatFloor,
  formatRatios,
  KEY_COUNT,
  LIMITER_TARGETS,
  MEMORY_SYNC_CASE,
  memoryLimiterCase,
  memorySyncLimiterCase,
  oursMemory,
  oursPostgres,
  oursRedis,
  redisKeys,
  redisLimiterCase,
  ROUND_TRIP,
  type LimiterSide,
} from './limits.js';

/** Anything with the consume of both sides. */
type Consumer = { consume(key: string): Promise<unknown> };

/** `attempts` decisions on `key` (`inFlight` at a time); how many were admitted and refused. */
async function hammer(
  side: LimiterSide<Consumer>,
  key: string,
  attempts: number,
  inFlight = 1,
): Promise<{ admitted: number; refused: unknown[] }> {
  let admitted = 0;
  const refused: unknown[] = [];
  for (let done = 0; done < attempts; done += inFlight) {
    const batch = Array.from({ length: Math.min(inFlight, attempts - done) }, () =>
      side.limiter.consume(key),
    );
    for (const outcome of await Promise.allSettled(batch)) {
      if (outcome.status === 'fulfilled') admitted += 1;
      else refused.push(outcome.reason);
    }
  }
  return { admitted, refused };
}

/** Ours' refusals are FND_PROTECT_LIMIT_EXCEEDED; the peer's are its result object (not an Error). */
function expectRefusals(ours: readonly unknown[], peer: readonly unknown[], count: number): void {
  expect(ours).toHaveLength(count);
  expect(peer).toHaveLength(count);
  for (const error of ours) {
    expect(error).toBeInstanceOf(FoundationError);
    expect((error as FoundationError).code).toBe('FND_PROTECT_LIMIT_EXCEEDED');
  }
  for (const res of peer) {
    expect(res).not.toBeInstanceOf(Error);
    expect(res).toMatchObject({ remainingPoints: 0 });
  }
}

/** Both sides: 5 per window, 8 attempts on one key: 5 admitted, 3 refused, and another key is untouched. */
async function sameAnswers(
  ours: LimiterSide<RateLimiter>,
  peer: LimiterSide<Consumer>,
  inFlight: number,
): Promise<void> {
  const o = await hammer(ours, 'k1', 8, inFlight);
  const p = await hammer(peer, 'k1', 8, inFlight);
  expect(o.admitted).toBe(5);
  expect(p.admitted).toBe(5);
  expectRefusals(o.refused, p.refused, 3);
  expect((await hammer(ours, 'k2', 1)).admitted).toBe(1);
  expect((await hammer(peer, 'k2', 1)).admitted).toBe(1);
}

describe('rate limit bench sides', () => {
  it('cycle over 1000 precomputed keys with the measured rule (fixed window, 1e9 per 60 s)', () => {
    const keys = benchKeys();
    expect(keys).toHaveLength(KEY_COUNT);
    expect([keys[0], keys[999]]).toEqual(['k0', 'k999']);
    expect(new Set(keys).size).toBe(KEY_COUNT);
    expect(benchRule()).toEqual({ algorithm: 'fixed_window', limit: 1e9, windowMs: 60_000 });
  });

  it('memory: ours and rate-limiter-flexible admit the same 5 of 8 per key', async () => {
    const ours = oursMemory(benchRule(5));
    const peer = flexibleMemory(5);
    try {
      await sameAnswers(ours, peer, 1);
    } finally {
      await ours.close();
      await peer.close();
    }
  });

  it('memory: ours with GCRA admits the same 5 of 8 (burst = limit)', async () => {
    const ours = oursMemory(benchRule(5, 'gcra'));
    try {
      const { admitted, refused } = await hammer(ours, 'k1', 8);
      expect(admitted).toBe(5);
      expect(refused.map((error) => (error as FoundationError).code)).toEqual(
        Array<string>(3).fill('FND_PROTECT_LIMIT_EXCEEDED'),
      );
    } finally {
      await ours.close();
    }
  });

  it('memory: under the measured rule both sides admit and count one unit per decision', async () => {
    const ours = oursMemory();
    const peer = flexibleMemory();
    try {
      for (let i = 0; i < 3; i++) {
        const decision = await ours.limiter.consume('k7');
        expect(decision).toMatchObject({ allowed: true, remaining: BENCH_LIMIT - 1 - i });
        expect(await peer.limiter.consume('k7')).toMatchObject({
          remainingPoints: BENCH_LIMIT - 1 - i,
          consumedPoints: i + 1,
        });
      }
    } finally {
      await ours.close();
      await peer.close();
    }
  });
});

describe('the memory cases', () => {
  it('synchronous: ours tryConsume and the peer consume without await, the peer the table ratio row', async () => {
    const benchCase = memorySyncLimiterCase();
    expect(benchCase.name).toBe(MEMORY_SYNC_CASE);
    expect(benchCase.impls.map((i) => [i.impl, i.role])).toEqual([
      ['ours', 'ours'],
      ['ours-gcra', 'ours'],
      ['rate-limiter-flexible', 'peer'],
    ]);
    const [ours, gcra, peer] = benchCase.impls.map((i) => ({ impl: i, state: i.setup() }));
    for (const side of [ours, gcra]) {
      // A plain decision, returned synchronously: no promise.
      const first = side?.impl.fn(side.state, 0) as RateLimitDecision;
      expect(first).toMatchObject({ allowed: true, remaining: BENCH_LIMIT - 1 });
      expect(side?.impl.fn(side.state, KEY_COUNT)).toMatchObject({ remaining: BENCH_LIMIT - 2 }); // k0 again
      side?.impl.teardown(side.state);
    }
    // The peer's decision runs inside its promise's executor; the promise is what the sink gets.
    const pending = peer?.impl.fn(peer.state, 3);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toMatchObject({ remainingPoints: BENCH_LIMIT - 1, consumedPoints: 1 });
    peer?.impl.teardown(peer.state);
    expect(LIMITER_TARGETS.memory).toEqual({ 'rate-limiter-flexible': 0.2 });
    // Its notes carry the target.
    expect(benchCase.notes?.([row('ours', 'ours', 30), row('rate-limiter-flexible', 'peer', 150)])).toBe(
      'ours 30.0 ns/op ÷ rate-limiter-flexible 150 ns/op = 0.200× (target ≤ 0.2×: met)',
    );
  });

  it('awaited: a bare-await baseline row, and notes with the ratios but not the target', async () => {
    const benchCase = memoryLimiterCase();
    expect(benchCase.impls.map((i) => [i.impl, i.role])).toEqual([
      ['ours', 'ours'],
      ['ours-gcra', 'ours'],
      ['ours-sync', 'ours'],
      ['rate-limiter-flexible', 'peer'],
      ['bare-await', 'baseline'],
    ]);
    const bare = benchCase.impls[4];
    expect(bare?.fn(await bare.setup(undefined), 7)).toBe(7);
    const notes = await benchCase.notes?.(undefined, [
      row('ours', 'ours', 100),
      row('rate-limiter-flexible', 'peer', 200),
      row('bare-await', 'baseline', 40),
    ]);
    expect(notes?.split('\n')).toEqual([
      'ours 100 ns/op ÷ rate-limiter-flexible 200 ns/op = 0.500×',
      "(awaited: every row includes the caller's await, see the bare-await row; the 0.2× target applies to the synchronous case)",
    ]);
  });
});

describeRedis('rate limit bench sides on Redis', () => {
  it('the sequential Redis case times one PING round trip (the floor); the one in flight does not', async () => {
    const benchCase = redisLimiterCase(1);
    expect(benchCase.impls.map((i) => [i.impl, i.role])).toEqual([
      ['ours', 'ours'],
      ['rate-limiter-flexible', 'peer'],
      [ROUND_TRIP, 'baseline'],
    ]);
    const floor = benchCase.impls[2];
    const client = await floor?.setup(undefined);
    try {
      expect(await floor?.fn(client, 0)).toBe('PONG');
    } finally {
      await floor?.teardown(client);
    }
    expect(redisLimiterCase(100).impls.map((i) => i.impl)).toEqual(['ours', 'rate-limiter-flexible']);
  });

  for (const inFlight of [1, 8]) {
    it(`ours and RateLimiterRedis admit the same 5 of 8 per key, ${String(inFlight)} in flight`, async () => {
      const ours = await oursRedis(benchRule(5));
      const peer = await flexibleRedis(5);
      try {
        await sameAnswers(ours, peer, inFlight);
      } finally {
        await ours.close();
        await peer.close();
      }
    });
  }

  it('each side writes under its own fresh prefix, deleted on close', async () => {
    const ours = await oursRedis();
    const peer = await flexibleRedis();
    expect(ours.location).not.toBe(peer.location);
    try {
      await ours.limiter.consume('k3');
      await peer.limiter.consume('k3');
      expect((await redisKeys(ours.location)).sort()).toEqual([
        `${ours.location}bench:k3`,
        `${ours.location}bench:warmup`,
      ]);
      expect((await redisKeys(peer.location)).sort()).toEqual([
        `${peer.location}k3`,
        `${peer.location}warmup`,
      ]);
    } finally {
      await ours.close();
      await peer.close();
    }
    expect(await redisKeys(ours.location)).toEqual([]);
    expect(await redisKeys(peer.location)).toEqual([]);
  });
});

describePg('rate limit bench sides on PostgreSQL', () => {
  for (const inFlight of [1, 8]) {
    it(`ours and RateLimiterPostgres admit the same 5 of 8 per key, ${String(inFlight)} in flight`, async () => {
      const ours = await oursPostgres(benchRule(5));
      const peer = await flexiblePostgres(5);
      try {
        await sameAnswers(ours, peer, inFlight);
      } finally {
        await ours.close();
        await peer.close();
      }
    });
  }

  it("ours' schema and the peer's table hold one row per key, and are dropped on close", async () => {
    const ours = await oursPostgres();
    const peer = await flexiblePostgres();
    const count = async (table: string): Promise<number> =>
      Number((await pgRun<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
    const exists = async (name: string): Promise<boolean> =>
      (await pgRun<{ r: string | null }>('SELECT to_regclass($1) AS r', [name])).rows[0]?.r !== null;
    try {
      await ours.limiter.consume('k3');
      await peer.limiter.consume('k3');
      expect(await count(`"${ours.location}".rate_limits`)).toBe(2);
      expect(await count(`"${peer.location}"`)).toBe(2);
    } finally {
      await ours.close();
      await peer.close();
    }
    expect(await exists(`"${ours.location}".rate_limits`)).toBe(false);
    expect(await exists(`"${peer.location}"`)).toBe(false);
  });
});

function row(impl: string, role: ImplResult['role'], nsPerOp: number): ImplResult {
  return { impl, role, nsPerOp, opsPerSec: 1e9 / nsPerOp, spread: 0, rounds: 1, batch: 1 };
}

describe('ratio notes', () => {
  it('give ours ÷ every peer, with the target when one is named', () => {
    const results = [
      row('ours', 'ours', 150),
      row('ours-gcra', 'ours', 300),
      row('generic-pool', 'peer', 1000),
      row('tarn', 'peer', 2400),
      row('bare-await', 'baseline', 90),
    ];
    expect(formatRatios(results, { 'generic-pool': 0.2, tarn: 0.1 }).split('\n')).toEqual([
      'ours 150 ns/op ÷ generic-pool 1,000 ns/op = 0.150× (target ≤ 0.2×: met)',
      'ours 150 ns/op ÷ tarn 2,400 ns/op = 0.063× (target ≤ 0.1×: met)',
      'ours-gcra 300 ns/op ÷ generic-pool 1,000 ns/op = 0.300× (target ≤ 0.2×: MISSED)',
      'ours-gcra 300 ns/op ÷ tarn 2,400 ns/op = 0.125× (target ≤ 0.1×: MISSED)',
    ]);
  });

  it('a Redis case adds the floor: one round trip ÷ the peer; nothing without a round-trip row', () => {
    const results = [
      row('ours', 'ours', 57_000),
      row('rate-limiter-flexible', 'peer', 50_000),
      row(ROUND_TRIP, 'baseline', 40_000),
    ];
    expect(formatFloor(results)).toBe(
      'floor: one round trip 40,000 ns/op ÷ rate-limiter-flexible 50,000 ns/op = 0.800× (no decision of one round trip goes below it)',
    );
    expect(formatFloor(results.slice(0, 2))).toBe('');
  });

  it('omit the verdict without a target, and are empty without a peer', () => {
    expect(formatRatios([row('ours', 'ours', 50), row('peer', 'peer', 80)])).toBe(
      'ours 50.0 ns/op ÷ peer 80.0 ns/op = 0.625×',
    );
    expect(formatRatios([row('ours', 'ours', 50), row('bare', 'baseline', 40)])).toBe('');
  });
});
