/**
 * The statements of the PostgreSQL rate-limit store (`postgres-store.ts`), as named, parameterized SQL: a
 * decision is `INSERT … ON CONFLICT (key) DO UPDATE` whose SET is a sub-select computing the algorithm from
 * the locked row, with `clock_timestamp()` as the clock; its batch form runs the same math once per key of
 * `unnest($1::text[])`; `status` is one SELECT with the same math and writes nothing.
 *
 * The `algorithm` column holds the algorithm and the window (`gcra/60000`): state written under another
 * algorithm or window counts as absent. State columns per algorithm (integers; "u" = 1/limit ms, so that every quantity is an exact integer):
 * - token_bucket: a = tokens in u × windowMs units (capacity burst × windowMs), b = time of a (ms);
 * - gcra: a = the debt in u × windowMs units (the theoretical arrival time is b + a / limit), b = time of a;
 * - sliding_window: a = start of the current aligned window, b = its count, c = the previous window's count;
 * - fixed_window: a = start of the aligned window, b = its count.
 *
 * `hold_until` (ms since the epoch, 0 when never held) is read by the same statement: until hold_until
 * every decision refuses (any algorithm) and the upsert keeps the column as it is. A key with only a hold has
 * the algorithm `-` (no state).
 *
 * @module
 */
import type { RateLimitAlgorithm } from './types.js';

/** Old state expressions a decision starts from. */
interface OldState {
  readonly algorithm: string;
  readonly a: string;
  readonly b: string;
  readonly c: string;
  /** The hold's end (ms since the epoch; 0 when none), whatever the algorithm. */
  readonly h: string;
  /**
   * The first step's FROM clause, if any: a lateral reference to the batch's key row makes the decision (and
   * its clock reading) one per row, computed as that row is inserted, after any lock wait on earlier rows.
   */
  readonly from?: string;
}

const KEY = '$1::text';
/** The keys of a batch ($1 of the batch statement). */
const KEYS_PARAM = '$1::text[]';
/** What a row's `algorithm` column holds: the algorithm and the window, e.g. `gcra/60000`. */
const TAG = "($2::text || '/' || $4::bigint::text)";
const L = '$3::bigint';
const W = '$4::bigint';
const CAP = '($5::bigint * $4::bigint)';
const N = '$6::bigint';
const NOW = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * The first step of every decision: now, and the old state when it belongs to this algorithm and window
 * (else NULL: a key whose rule changed algorithm or window starts afresh, as in the memory store).
 */
function start(old: OldState): string {
  const mine = `${old.algorithm} = ${TAG}`;
  // $5 is unused by the window algorithms: naming it here gives it a type in every statement.
  return `(SELECT ${NOW} AS now, $5::bigint AS p5, CASE WHEN ${mine} THEN ${old.a} END AS oa, CASE WHEN ${mine} THEN ${old.b} END AS ob, CASE WHEN ${mine} THEN ${old.c} END AS oc, ${old.h} AS oh${old.from === undefined ? '' : ` FROM ${old.from}`}) s0`;
}

/** Token bucket and GCRA as a debt `d` (in u) that drains at `limit` u per ms; admitted while d ≤ capacity. */
function bucketDecision(algorithm: 'token_bucket' | 'gcra', old: OldState): string {
  const debt =
    algorithm === 'token_bucket'
      ? `CASE WHEN oa IS NULL THEN 0 ELSE ${CAP} - LEAST(${CAP}, oa + LEAST(GREATEST(now - ob, 0), (${CAP} + ${L} - 1) / ${L}) * ${L}) END`
      : `CASE WHEN oa IS NULL THEN 0 ELSE GREATEST(0, oa - LEAST(GREATEST(now - ob, 0), (oa + ${L} - 1) / ${L}) * ${L}) END`;
  // The state's time never goes back, so a server clock stepping back gives no allowance back.
  const state = algorithm === 'token_bucket' ? `${CAP} - da, at, 0::bigint` : `da, at, 0::bigint`;
  return `SELECT ${state}, ok,
    CASE WHEN now < oh THEN 0 ELSE (${CAP} - da) / ${W} END,
    CASE WHEN ok THEN 0 ELSE GREATEST(CASE WHEN fits THEN 0 ELSE (d + ${N} * ${W} - ${CAP} + ${L} - 1) / ${L} END, oh - now) END,
    GREATEST((da + ${L} - 1) / ${L}, oh - now),
    now + GREATEST((da + ${L} - 1) / ${L}, oh - now)
  FROM (SELECT now, oh, at, d, fits, ok, CASE WHEN ok THEN d + ${N} * ${W} ELSE d END AS da
    FROM (SELECT now, oh, at, d, fits, fits AND now >= oh AS ok
      FROM (SELECT now, oh, at, d, d + ${N} * ${W} <= ${CAP} AS fits
        FROM (SELECT now, oh, GREATEST(now, ob) AS at, ${debt} AS d FROM ${start(old)}) s1) s2) s3) s4`;
}

/** The two-window weighted counter over windows aligned to windowMs. */
function slidingDecision(old: OldState): string {
  const reset = `GREATEST(CASE WHEN ca > 0 THEN 2 * ${W} - e WHEN prev > 0 THEN ${W} - e ELSE 0 END, oh - now)`;
  return `SELECT ws, ca, prev, ok,
    CASE WHEN now < oh THEN 0 ELSE GREATEST(0, ${L} * ${W} - prev * (${W} - e) - ca * ${W}) / ${W} END,
    CASE WHEN ok THEN 0 ELSE GREATEST(CASE WHEN fits THEN 0
      WHEN ${L} - cur - ${N} >= 0 AND prev > 0 THEN (${W} - e) - ((${L} - cur - ${N}) * ${W}) / prev
      ELSE (${W} - e) + CASE WHEN cur > 0 THEN GREATEST(0, ${W} - ((${L} - ${N}) * ${W}) / cur) ELSE 0 END END,
      oh - now) END,
    ${reset},
    now + ${reset}
  FROM (SELECT now, oh, ws, e, cur, prev, fits, ok, cur + CASE WHEN ok THEN ${N} ELSE 0 END AS ca
    FROM (SELECT now, oh, ws, e, cur, prev, fits, fits AND now >= oh AS ok
      FROM (SELECT now, oh, ws, e, cur, prev, prev * (${W} - e) + (cur + ${N}) * ${W} <= ${L} * ${W} AS fits
        FROM (SELECT now, oh, ws, e,
            CASE WHEN oa = ws THEN ob ELSE 0 END AS cur,
            CASE WHEN oa = ws THEN oc WHEN oa = ws - ${W} THEN ob ELSE 0 END AS prev
          FROM (SELECT now, oh, oa, ob, oc, now - now % ${W} AS ws, now % ${W} AS e FROM ${start(old)}) s1) s2) s3) s4) s5`;
}

/** One counter per window aligned to windowMs. */
function fixedDecision(old: OldState): string {
  const reset = `GREATEST(CASE WHEN ca > 0 THEN ${W} - e ELSE 0 END, oh - now)`;
  return `SELECT ws, ca, 0::bigint, ok,
    CASE WHEN now < oh THEN 0 ELSE GREATEST(0, ${L} - ca) END,
    CASE WHEN ok THEN 0 ELSE GREATEST(CASE WHEN fits THEN 0 ELSE ${W} - e END, oh - now) END,
    ${reset},
    now + ${reset}
  FROM (SELECT now, oh, ws, e, fits, ok, cur + CASE WHEN ok THEN ${N} ELSE 0 END AS ca
    FROM (SELECT now, oh, ws, e, cur, fits, fits AND now >= oh AS ok
      FROM (SELECT now, oh, ws, e, cur, cur + ${N} <= ${L} AS fits
        FROM (SELECT now, oh, ws, e, CASE WHEN oa = ws THEN ob ELSE 0 END AS cur
          FROM (SELECT now, oh, oa, ob, now - now % ${W} AS ws, now % ${W} AS e FROM ${start(old)}) s1) s2) s3) s4) s5`;
}

/**
 * The decision of `algorithm` from `old`: a SELECT of one row (a, b, c, allowed, remaining, retry_after_ms,
 * reset_ms, expires_at) — the columns of `rate_limits` after key and algorithm.
 */
function decision(algorithm: RateLimitAlgorithm, old: OldState): string {
  switch (algorithm) {
    case 'token_bucket':
    case 'gcra':
      return bucketDecision(algorithm, old);
    case 'sliding_window':
      return slidingDecision(old);
    case 'fixed_window':
      return fixedDecision(old);
  }
}

const COLUMNS = 'a, b, c, allowed, remaining, retry_after_ms, reset_ms, expires_at';
function out(alias: string): string {
  return `${alias}.allowed, ${alias}.remaining::float8 AS remaining, ${alias}.retry_after_ms::float8 AS retry, ${alias}.reset_ms::float8 AS reset`;
}
const NONE: OldState = {
  algorithm: 'NULL::text',
  a: 'NULL::bigint',
  b: 'NULL::bigint',
  c: 'NULL::bigint',
  h: '0::bigint',
};
/** No row, for the key `u.k` of a batch (one decision per key, at its own instant). */
const NONE_IN_BATCH: OldState = { ...NONE, from: '(SELECT u.k) AS one' };
const ROW: OldState = {
  algorithm: 'r.algorithm',
  a: 'r.a',
  b: 'r.b',
  c: 'r.c',
  h: 'COALESCE(r.hold_until, 0)',
};

/** A named statement: parsed and planned once per connection. Names start with `fnd_ratelimit_`. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * The row after a decision on an existing key: an admitted decision writes its state; a refused one (e.g. a
 * held key, possibly under another rule) keeps the row's algorithm, state and expiry — it records nothing, as
 * in the memory store — and only the last decision's columns change.
 */
const KEPT = `CASE WHEN d.allowed THEN ${TAG} ELSE r.algorithm END,
  CASE WHEN d.allowed THEN d.a ELSE r.a END, CASE WHEN d.allowed THEN d.b ELSE r.b END,
  CASE WHEN d.allowed THEN d.c ELSE r.c END, d.allowed, d.remaining, d.retry_after_ms, d.reset_ms,
  CASE WHEN d.allowed THEN d.expires_at ELSE r.expires_at END`;

function consumeStatement(algorithm: RateLimitAlgorithm): Statement {
  return {
    name: `fnd_ratelimit_consume_${algorithm}`,
    text: `INSERT INTO rate_limits AS r (key, algorithm, ${COLUMNS})
SELECT ${KEY}, ${TAG}, d.* FROM (${decision(algorithm, NONE)}) d
ON CONFLICT (key) DO UPDATE SET (algorithm, ${COLUMNS}) = (SELECT ${KEPT} FROM (${decision(algorithm, ROW)}) d(${COLUMNS}))
RETURNING ${out('r')}`,
  };
}

/**
 * The batch form of {@link consumeStatement}: $1 is an array of distinct keys, the rows are inserted in key
 * order (`COLLATE "C"`, the same order in every process: batches lock rows in one order and cannot deadlock),
 * and each returned row carries its key. Each row's decision reads the clock as that row is inserted or
 * updated (after any wait for an earlier row's lock), so a wait never dates a decision in the past.
 */
function consumeManyStatement(algorithm: RateLimitAlgorithm): Statement {
  return {
    name: `fnd_ratelimit_consume_many_${algorithm}`,
    text: `INSERT INTO rate_limits AS r (key, algorithm, ${COLUMNS})
SELECT u.k, ${TAG}, d.* FROM (SELECT k FROM unnest(${KEYS_PARAM}) AS k ORDER BY k COLLATE "C") u
CROSS JOIN LATERAL (${decision(algorithm, NONE_IN_BATCH)}) d
ON CONFLICT (key) DO UPDATE SET (algorithm, ${COLUMNS}) = (SELECT ${KEPT} FROM (${decision(algorithm, ROW)}) d(${COLUMNS}))
RETURNING r.key, ${out('r')}`,
  };
}

function statusStatement(algorithm: RateLimitAlgorithm): Statement {
  return {
    name: `fnd_ratelimit_status_${algorithm}`,
    text: `SELECT ${out('x')} FROM (SELECT ${KEY} AS k) one LEFT JOIN rate_limits r ON r.key = one.k
CROSS JOIN LATERAL (SELECT d.* FROM (${decision(algorithm, ROW)}) d(${COLUMNS})) x`,
  };
}

/**
 * The batch form of {@link statusStatement}: $1 an array of keys (repeats answered once), each returned row
 * carrying its key. Reads only.
 */
function statusManyStatement(algorithm: RateLimitAlgorithm): Statement {
  return {
    name: `fnd_ratelimit_status_many_${algorithm}`,
    text: `SELECT one.k AS key, ${out('x')} FROM (SELECT DISTINCT k FROM unnest(${KEYS_PARAM}) AS k) one
LEFT JOIN rate_limits r ON r.key = one.k
CROSS JOIN LATERAL (SELECT d.* FROM (${decision(algorithm, ROW)}) d(${COLUMNS})) x`,
  };
}

function perAlgorithm(
  make: (algorithm: RateLimitAlgorithm) => Statement,
): Record<RateLimitAlgorithm, Statement> {
  return {
    token_bucket: make('token_bucket'),
    gcra: make('gcra'),
    sliding_window: make('sliding_window'),
    fixed_window: make('fixed_window'),
  };
}

/** One decision per algorithm: the single-key upsert ($1 key, $2 algorithm, $3 limit, $4 window, $5 capacity, $6 n). */
export const CONSUME = perAlgorithm(consumeStatement);
/** A batch of decisions on distinct keys per algorithm ($1 the keys; the rest as {@link CONSUME}). */
export const CONSUME_MANY = perAlgorithm(consumeManyStatement);
/** The decision for 0 units per algorithm, writing nothing (parameters as {@link CONSUME}). */
export const STATUS = perAlgorithm(statusStatement);
/** The status of several keys per algorithm, writing nothing ($1 the keys; the rest as {@link CONSUME}). */
export const STATUS_MANY = perAlgorithm(statusManyStatement);
/** Forgets a key ($1). */
export const RESET: Statement = {
  name: 'fnd_ratelimit_reset',
  text: 'DELETE FROM rate_limits WHERE key = $1::text',
};
/**
 * A hold: a new row (algorithm `-`, which no rule's tag matches: no state) or the existing row with its hold
 * extended (never shortened) and its expiry at least the hold's end. $2 is the hold in whole ms.
 */
export const HOLD: Statement = {
  name: 'fnd_ratelimit_hold',
  text: `INSERT INTO rate_limits AS r (key, algorithm, ${COLUMNS}, hold_until)
SELECT $1::text, '-', 0, 0, 0, false, 0, $2::bigint, $2::bigint, h, h FROM (SELECT ${NOW} + $2::bigint AS h) s
ON CONFLICT (key) DO UPDATE SET hold_until = GREATEST(r.hold_until, EXCLUDED.hold_until),
  expires_at = GREATEST(r.expires_at, EXCLUDED.hold_until)`,
};
/**
 * Keys with a live row starting with $1 (`starts_with`: no pattern to escape), in byte order, at most $2.
 */
export const KEYS: Statement = {
  name: 'fnd_ratelimit_keys',
  text: `SELECT key FROM rate_limits WHERE starts_with(key, $1::text) AND expires_at > ${NOW}
ORDER BY key COLLATE "C" LIMIT $2::int`,
};
/** Deletes the rows whose allowance is full again and hold over. */
export const PURGE: Statement = {
  name: 'fnd_ratelimit_purge',
  text: `DELETE FROM rate_limits WHERE expires_at <= ${NOW}`,
};
