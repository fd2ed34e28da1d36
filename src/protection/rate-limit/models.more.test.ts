/** Edge paths of the pure rate-limit models: a clock behind the state, and when a state may be forgotten. */
import { describe, expect, it } from 'vitest';
import { decideGcra } from './gcra.js';
import { decideSlidingWindow, slidingWindowIdleAt } from './sliding-window.js';
import type { RateLimitRule } from './types.js';

const rule: RateLimitRule = { algorithm: 'gcra', limit: 2, windowMs: 1000 };
const sliding: RateLimitRule = { ...rule, algorithm: 'sliding_window' };

describe('a now behind the state', () => {
  it('GCRA counts it as the state time: the same decision as at the state time', () => {
    const first = decideGcra(undefined, rule, 1, 5000);
    const behind = decideGcra(first.nextState, rule, 1, 4000);
    const atState = decideGcra(first.nextState, rule, 1, 5000);
    expect(behind).toEqual(atState);
    expect(behind.decision.allowed).toBe(true);
    expect(behind.nextState.at).toBe(5000);
  });

  it('the sliding window counts it as the window start', () => {
    const first = decideSlidingWindow(undefined, sliding, 1, 2500);
    expect(first.nextState).toEqual({ start: 2000, prev: 0, curr: 1 });
    const behind = decideSlidingWindow(first.nextState, sliding, 1, 1500);
    const atStart = decideSlidingWindow(first.nextState, sliding, 1, 2000);
    expect(behind).toEqual(atStart);
    expect(behind.nextState).toEqual({ start: 2000, prev: 0, curr: 2 });
  });
});

describe('slidingWindowIdleAt', () => {
  it('is two windows after the start while the current window counts, one with only the previous, the start with neither', () => {
    expect(slidingWindowIdleAt({ start: 2000, prev: 3, curr: 1 }, sliding)).toBe(4000);
    expect(slidingWindowIdleAt({ start: 2000, prev: 3, curr: 0 }, sliding)).toBe(3000);
    expect(slidingWindowIdleAt({ start: 2000, prev: 0, curr: 0 }, sliding)).toBe(2000);
  });
});
