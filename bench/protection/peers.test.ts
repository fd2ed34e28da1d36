import { BrokenCircuitError, CircuitState } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import type { ImplResult } from '../harness.js';
import { addedOverheads, formatAddedOverheads } from './overhead.js';
import {
  BREAKER_THRESHOLD,
  cockatielBreaker,
  cockatielComposed,
  cockatielRetry,
  cockatielTimeout,
  MAX_ATTEMPTS,
  opossumBreaker,
  signalFn,
  stopOpossum,
  valueFn,
} from './peers.js';

const boom = (): Promise<never> => Promise.reject(new Error('boom'));

describe('protection bench peers', () => {
  it('every peer answers 1 around the measured functions', async () => {
    expect(await cockatielBreaker().execute(valueFn)).toBe(1);
    expect(await cockatielRetry().execute(valueFn)).toBe(1);
    expect(await cockatielTimeout().execute(valueFn)).toBe(1);
    expect(await cockatielComposed().execute(valueFn)).toBe(1);
    expect(await cockatielComposed().execute(signalFn)).toBe(1);
    const opossum = opossumBreaker(valueFn);
    expect(await opossum.fire()).toBe(1);
    stopOpossum(opossum);
  });

  it("cockatiel's breaker opens after 5 consecutive failures, not before", async () => {
    const breaker = cockatielBreaker();
    for (let i = 0; i < BREAKER_THRESHOLD - 1; i++)
      await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe(CircuitState.Closed);
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe(CircuitState.Open);
    await expect(breaker.execute(valueFn)).rejects.toBeInstanceOf(BrokenCircuitError);
  });

  it("cockatiel's composition retries 3 times (maxAttempts counts retries: 4 calls), each under a signal", async () => {
    const signals: AbortSignal[] = [];
    await expect(
      cockatielComposed().execute(({ signal }) => {
        signals.push(signal);
        return Promise.reject(new Error('boom'));
      }),
    ).rejects.toThrow('boom');
    expect(signals).toHaveLength(MAX_ATTEMPTS + 1);
    expect(new Set(signals).size).toBe(MAX_ATTEMPTS + 1);
  });
});

function row(impl: string, role: ImplResult['role'], nsPerOp: number): ImplResult {
  return { impl, role, nsPerOp, opsPerSec: 1e9 / nsPerOp, spread: 0, rounds: 1, batch: 1 };
}

describe('added overhead', () => {
  const results = [
    row('ours', 'ours', 150),
    row('cockatiel', 'peer', 400),
    row('opossum', 'peer', 2100),
    row('bare-await', 'baseline', 100),
  ];

  it('is (ours − bare) / (peer − bare) for every peer', () => {
    expect(addedOverheads(results)).toEqual([
      { ours: 'ours', peer: 'cockatiel', oursAddedNs: 50, peerAddedNs: 300, ratio: 50 / 300 },
      { ours: 'ours', peer: 'opossum', oursAddedNs: 50, peerAddedNs: 2000, ratio: 50 / 2000 },
    ]);
    expect(formatAddedOverheads(results)).toBe(
      'added over bare-await (100 ns/op): ours +50.0 ns vs cockatiel +300 ns = 0.167×; ours +50.0 ns vs opossum +2,000 ns = 0.025×',
    );
  });

  it('is empty without a baseline or without ours', () => {
    expect(addedOverheads(results.slice(0, 3))).toEqual([]);
    expect(formatAddedOverheads(results.slice(1))).toBe('');
  });
});
