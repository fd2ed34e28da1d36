/**
 * The four rate-limit models as the memory store runs them: the same arithmetic as the pure models
 * (token-bucket.ts, gcra.ts, sliding-window.ts, fixed-window.ts, which stay the reference and define what the
 * Redis Lua and the PostgreSQL SQL compute), reading a key's state from the mutable fields of a
 * {@link ModelCell} and writing the admitted state back into one — so a decision allocates only the decision
 * it returns, where the pure models also allocate their result and the next state. A property test
 * (memory-models.test.ts) holds the two to the same decisions over random operation sequences.
 *
 * Every function: `src` the key's state (`undefined` = none, full allowance), `dst` where an admitted
 * decision's state goes (`undefined` = record nothing: a status read, a refusal, a held key), `n` the units
 * (0 = a status read), `now` integer ms. Refused decisions never write. The fields mean, by algorithm:
 *
 * | algorithm      | `t`                       | `u`                     | `v`                |
 * | -------------- | ------------------------- | ----------------------- | ------------------ |
 * | token_bucket   | `at` (last decision, ms)  | `scaled` (tokens × win) | 0                  |
 * | gcra           | `at` (TAT base, ms)       | `debt` (ms × limit)     | 0                  |
 * | sliding_window | `start` (window, ms)      | `prev`                  | `curr`             |
 * | fixed_window   | `start` (window, ms)      | `count`                 | 0                  |
 *
 * @module
 */
import type { FixedWindowState } from './fixed-window.js';
import type { GcraState } from './gcra.js';
import type { SlidingWindowState } from './sliding-window.js';
import { ceilDiv, type TokenBucketState } from './token-bucket.js';
import type { RateLimitAlgorithm, RateLimitDecision, RateLimitRule } from './types.js';

/** One key's model state as mutable numbers (meaning by algorithm: see the module docs). */
export interface ModelCell {
  /** Token bucket and GCRA: the time of the last decision; the windows: the current window's start. */
  t: number;
  /** Token bucket: tokens × windowMs; GCRA: debt; sliding window: the previous window's count; fixed: the count. */
  u: number;
  /** Sliding window: the current window's count; 0 otherwise. */
  v: number;
}

/** A decision (one shape for every algorithm, so the store's call sites stay monomorphic). */
function decision(
  allowed: boolean,
  remaining: number,
  retryAfterMs: number,
  resetMs: number,
  limit: number,
): RateLimitDecision {
  return { allowed, remaining, retryAfterMs, resetMs, limit };
}

/** `floor(a / b)` for non-negative integers `a`, positive `b`, exact below 2^53 (as sliding-window.ts's). */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  // As in ceilDiv: the correction cannot run below 2^53; it guards larger inputs.
  /* v8 ignore start */
  if (q * b > a) q -= 1;
  else if ((q + 1) * b <= a) q += 1;
  /* v8 ignore stop */
  return q;
}

/** The sliding window's `remaining`: the smaller of the aligned window's and the estimate's room, ≥ 0. */
function slidingRemaining(limit: number, windowMs: number, budget: number, curr: number): number {
  return Math.max(0, Math.min(limit - curr, floorDiv(Math.max(0, budget), windowMs) - curr));
}

/** The token bucket's decision (`decideTokenBucket`), in place. */
export function decideTokenBucketCell(
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  const limit = rule.limit;
  const windowMs = rule.windowMs;
  const capacity = (rule.burst ?? limit) * windowMs;
  let at = now;
  let scaled = capacity;
  if (src !== undefined) {
    const last = src.t;
    if (now < last) at = last;
    scaled = Math.min(capacity, src.u + (at - last) * limit);
  }
  const need = n * windowMs;
  if (need <= scaled) {
    scaled -= need;
    if (dst !== undefined) {
      dst.t = at;
      dst.u = scaled;
      dst.v = 0;
    }
    return decision(true, Math.floor(scaled / windowMs), 0, ceilDiv(capacity - scaled, limit), limit);
  }
  return decision(
    false,
    Math.floor(scaled / windowMs),
    need > capacity ? Number.POSITIVE_INFINITY : ceilDiv(need - scaled, limit),
    ceilDiv(capacity - scaled, limit),
    limit,
  );
}

/** GCRA's decision (`decideGcra`), in place. */
export function decideGcraCell(
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  const limit = rule.limit;
  const windowMs = rule.windowMs;
  const tolerance = (rule.burst ?? limit) * windowMs;
  let at = now;
  let debt = 0;
  if (src !== undefined) {
    const last = src.t;
    if (now < last) at = last;
    debt = Math.max(0, src.u - (at - last) * limit);
  }
  const cost = n * windowMs;
  if (debt + cost <= tolerance) {
    debt += cost;
    if (dst !== undefined) {
      dst.t = at;
      dst.u = debt;
      dst.v = 0;
    }
    return decision(true, Math.floor((tolerance - debt) / windowMs), 0, ceilDiv(debt, limit), limit);
  }
  return decision(
    false,
    Math.floor((tolerance - debt) / windowMs),
    cost > tolerance ? Number.POSITIVE_INFINITY : ceilDiv(debt + cost - tolerance, limit),
    ceilDiv(debt, limit),
    limit,
  );
}

/**
 * The sliding window's decision (`decideSlidingWindow`), in place. The common case — `now` inside the
 * state's window, the units admitted — is decided here in a few lines (small enough for V8 to inline into
 * the store's hot path); everything else goes to {@link slidingWindowCellAnyCase}.
 */
export function decideSlidingWindowCell(
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  if (src !== undefined) {
    const start = src.t;
    const windowMs = rule.windowMs;
    const limit = rule.limit;
    const prev = src.u;
    const curr = src.v + n;
    const left = windowMs - (now - start);
    const budget = limit * windowMs - prev * left;
    // Inside the state's window (its start a non-negative multiple of windowMs, so `now` is past it).
    if (start >= 0 && start <= now && left > 0 && curr <= limit && curr * windowMs <= budget) {
      if (dst !== undefined) {
        dst.t = start;
        dst.u = prev;
        dst.v = curr;
      }
      return decision(
        true,
        slidingRemaining(limit, windowMs, budget, curr),
        0,
        curr > 0 ? start + 2 * windowMs - now : prev > 0 ? left : 0,
        limit,
      );
    }
  }
  return slidingWindowCellAnyCase(src, dst, rule, n, now);
}

/** {@link decideSlidingWindowCell} in every case (the pure model's arithmetic). */
function slidingWindowCellAnyCase(
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  const limit = rule.limit;
  const windowMs = rule.windowMs;
  let start: number;
  let prev = 0;
  let curr = 0;
  if (src !== undefined && src.t >= 0 && src.t <= now && now - src.t < windowMs) {
    // Still the state's window (its start is a non-negative multiple of windowMs): no float modulo.
    start = src.t;
    prev = src.u;
    curr = src.v;
  } else {
    start = now - (now % windowMs);
    if (src !== undefined) {
      const stateStart = src.t;
      if (start <= stateStart) {
        start = stateStart;
        prev = src.u;
        curr = src.v;
      } else if (start === stateStart + windowMs) {
        prev = src.v;
      }
    }
  }
  const at = now < start ? start : now;
  const left = windowMs - (at - start);
  const budget = limit * windowMs - prev * left;
  if (curr + n <= limit && (curr + n) * windowMs <= budget) {
    curr += n;
    if (dst !== undefined) {
      dst.t = start;
      dst.u = prev;
      dst.v = curr;
    }
    return decision(
      true,
      slidingRemaining(limit, windowMs, budget, curr),
      0,
      curr > 0 ? start + 2 * windowMs - at : prev > 0 ? left : 0,
      limit,
    );
  }
  let retryAfterMs = Number.POSITIVE_INFINITY;
  if (n <= limit) {
    let when = -1;
    if (curr + n <= limit) {
      // Still this window, once the previous window's weight has decayed enough.
      const e = windowMs - floorDiv((limit - curr - n) * windowMs, prev);
      if (e < windowMs) when = start + e;
    }
    if (when < 0) {
      // The next window: this one's count becomes the decaying previous one.
      const e = curr === 0 ? 0 : Math.max(0, windowMs - floorDiv((limit - n) * windowMs, curr));
      when = start + windowMs + e;
    }
    retryAfterMs = when - at;
  }
  return decision(
    false,
    slidingRemaining(limit, windowMs, budget, curr),
    retryAfterMs,
    curr > 0 ? start + 2 * windowMs - at : left,
    limit,
  );
}

/**
 * The fixed window's decision (`decideFixedWindow`), in place. The common case — `now` inside the state's
 * window, the units admitted — is decided here in a few lines (small enough for V8 to inline into the
 * store's hot path); everything else goes to {@link fixedWindowCellAnyCase}.
 */
export function decideFixedWindowCell(
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  if (src !== undefined) {
    const start = src.t;
    const end = start + rule.windowMs;
    const count = src.u + n;
    const limit = rule.limit;
    // Inside the state's window (its start a non-negative multiple of windowMs, so `now` is past it).
    if (start >= 0 && start <= now && now < end && count <= limit) {
      if (dst !== undefined) {
        dst.t = start;
        dst.u = count;
        dst.v = 0;
      }
      return decision(true, limit - count, 0, count > 0 ? end - now : 0, limit);
    }
  }
  return fixedWindowCellAnyCase(src, dst, rule, n, now);
}

/** {@link decideFixedWindowCell} in every case (the pure model's arithmetic). */
function fixedWindowCellAnyCase(
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  const limit = rule.limit;
  const windowMs = rule.windowMs;
  let start: number;
  let count = 0;
  if (src !== undefined && src.t >= 0 && src.t <= now && now - src.t < windowMs) {
    // Still the state's window (its start is a non-negative multiple of windowMs): no float modulo.
    start = src.t;
    count = src.u;
  } else {
    start = now - (now % windowMs);
    if (src !== undefined && start <= src.t) {
      start = src.t;
      count = src.u;
    }
  }
  const end = start + windowMs;
  const at = now < start ? start : now;
  if (count + n <= limit) {
    count += n;
    if (dst !== undefined) {
      dst.t = start;
      dst.u = count;
      dst.v = 0;
    }
    return decision(true, limit - count, 0, count > 0 ? end - at : 0, limit);
  }
  return decision(false, limit - count, n > limit ? Number.POSITIVE_INFINITY : end - at, end - at, limit);
}

/**
 * An algorithm as a small integer, for {@link decideKind}: a `switch` on it makes one direct call per
 * algorithm, each inlined on its own, where a call through a function value stops being inlined once several
 * algorithms run in one process.
 */
export type CellKind = 0 | 1 | 2 | 3;

/** The {@link CellKind} of `algorithm`. */
export function cellKind(algorithm: RateLimitAlgorithm): CellKind {
  switch (algorithm) {
    case 'token_bucket':
      return 0;
    case 'gcra':
      return 1;
    case 'sliding_window':
      return 2;
    case 'fixed_window':
      return 3;
  }
}

/** The in-place decision of the algorithm `kind` (see the module docs for `src`, `dst`). */
export function decideKind(
  kind: CellKind,
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  switch (kind) {
    case 0:
      return decideTokenBucketCell(src, dst, rule, n, now);
    case 1:
      return decideGcraCell(src, dst, rule, n, now);
    case 2:
      return decideSlidingWindowCell(src, dst, rule, n, now);
    case 3:
      return decideFixedWindowCell(src, dst, rule, n, now);
  }
}

/** The in-place decision of `rule`'s algorithm (see the module docs for `src`, `dst`). */
export function decideCell(
  src: ModelCell | undefined,
  dst: ModelCell | undefined,
  rule: RateLimitRule,
  n: number,
  now: number,
): RateLimitDecision {
  return decideKind(cellKind(rule.algorithm), src, dst, rule, n, now);
}

/**
 * The ms from which `cell`'s state under `rule` no longer weighs on any decision (the pure models'
 * `tokenBucketIdleAt`, `gcraIdleAt`, `slidingWindowIdleAt`, `fixedWindowIdleAt`).
 */
export function cellIdleAt(cell: ModelCell, rule: RateLimitRule): number {
  switch (rule.algorithm) {
    case 'token_bucket':
      return cell.t + ceilDiv((rule.burst ?? rule.limit) * rule.windowMs - cell.u, rule.limit);
    case 'gcra':
      return cell.t + ceilDiv(cell.u, rule.limit);
    case 'sliding_window':
      return cell.v > 0 ? cell.t + 2 * rule.windowMs : cell.u > 0 ? cell.t + rule.windowMs : cell.t;
    case 'fixed_window':
      return cell.t + rule.windowMs;
  }
}

/** Any pure model's state. */
export type ModelState = TokenBucketState | GcraState | SlidingWindowState | FixedWindowState;

/** The pure model's state that `cell` holds under `algorithm` (for the pure `*IdleAt` functions and tests). */
export function cellState(cell: ModelCell, algorithm: RateLimitAlgorithm): ModelState {
  switch (algorithm) {
    case 'token_bucket':
      return { at: cell.t, scaled: cell.u };
    case 'gcra':
      return { at: cell.t, debt: cell.u };
    case 'sliding_window':
      return { start: cell.t, prev: cell.u, curr: cell.v };
    case 'fixed_window':
      return { start: cell.t, count: cell.u };
  }
}
