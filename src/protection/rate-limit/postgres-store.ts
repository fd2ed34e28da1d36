/**
 * Rate-limit state in PostgreSQL (the storage's schema, table `rate_limits`), shared by every process on the
 * database. A decision is one parameterized statement: `INSERT … ON CONFLICT (key) DO UPDATE` whose SET is a
 * sub-select computing the algorithm from the locked row, with `clock_timestamp()` as the clock — so
 * concurrent decisions on one key serialize on its row lock and never read stale state. `status` is one
 * SELECT with the same math and writes nothing.
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
 * Batching: `consume` calls asked in the same turn of the event loop are planned together when it ends. Those
 * with the same rule (algorithm, limit, window, burst) and the same unit count `n` and distinct keys share one
 * statement (at most 64 decisions): the same upsert over `unnest($1::text[])`, returning each row's key, by
 * which every caller gets its own decision; `n` stays one scalar parameter. The statement is still the single
 * decision's math, once per row, each row under its own row lock and its own `clock_timestamp()` (read as the
 * row is written, after any wait for an earlier row's lock): each decision stays atomic and exact, and under
 * load one round trip and one socket write serve many callers — still one statement per decision, or fewer.
 * A statement is atomic: when it fails, every decision in it fails with its error (`classifyPgError`) and none
 * is applied. A lone decision (the sequential case) runs the single-key statement.
 *
 * The rows are inserted in key order (`COLLATE "C"`): every batch, of any process, locks its rows in one
 * global order, so two batches sharing keys may wait for each other but never deadlock (unsorted, a batch
 * holding `a` and waiting for `b` and one holding `b` and waiting for `a` would). One command cannot update a
 * row twice, so a key already in the round being planned (under any rule) waits for the following round, sent
 * once the previous one has answered: the decisions on one key asked in one turn run in the order asked.
 * `status`, `hold`, `reset` and `keys` are one statement each, unbatched (sent at once: a `status` asked
 * after a `consume` in the same turn does not wait for it).
 *
 * @module
 */
import type pg from 'pg';
import { classifyPgError, PostgresCapability, type Storage } from '../../storage/index.js';
import { checkRateLimitCall, ruleCapacity } from './create-store.js';
import { checkRateLimitHold, checkRateLimitKey, checkRateLimitListing } from './checks.js';
import { RATELIMIT_MIGRATIONS } from './migrations.js';
import { planRound, wireKey, type PendingConsume } from './postgres-batch.js';
import type { RateLimitAlgorithm, RateLimitDecision, RateLimitRule, RateLimitStore } from './types.js';

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
interface Statement {
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

const CONSUME = perAlgorithm(consumeStatement);
const CONSUME_MANY = perAlgorithm(consumeManyStatement);
const STATUS = perAlgorithm(statusStatement);
const RESET: Statement = {
  name: 'fnd_ratelimit_reset',
  text: 'DELETE FROM rate_limits WHERE key = $1::text',
};
/**
 * A hold: a new row (algorithm `-`, which no rule's tag matches: no state) or the existing row with its hold
 * extended (never shortened) and its expiry at least the hold's end. $2 is the hold in whole ms.
 */
const HOLD: Statement = {
  name: 'fnd_ratelimit_hold',
  text: `INSERT INTO rate_limits AS r (key, algorithm, ${COLUMNS}, hold_until)
SELECT $1::text, '-', 0, 0, 0, false, 0, $2::bigint, $2::bigint, h, h FROM (SELECT ${NOW} + $2::bigint AS h) s
ON CONFLICT (key) DO UPDATE SET hold_until = GREATEST(r.hold_until, EXCLUDED.hold_until),
  expires_at = GREATEST(r.expires_at, EXCLUDED.hold_until)`,
};
/**
 * Keys with a live row starting with $1 (`starts_with`: no pattern to escape), in byte order, at most $2.
 */
const KEYS: Statement = {
  name: 'fnd_ratelimit_keys',
  text: `SELECT key FROM rate_limits WHERE starts_with(key, $1::text) AND expires_at > ${NOW}
ORDER BY key COLLATE "C" LIMIT $2::int`,
};
const PURGE: Statement = {
  name: 'fnd_ratelimit_purge',
  text: `DELETE FROM rate_limits WHERE expires_at <= ${NOW}`,
};

interface DecisionRow {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly retry: number;
  readonly reset: number;
}

/** A row of a batch statement: a decision and its key. */
interface KeyedDecisionRow extends DecisionRow {
  readonly key: string;
}

function toDecision(row: DecisionRow, rule: RateLimitRule): RateLimitDecision {
  return {
    allowed: row.allowed,
    remaining: row.remaining,
    retryAfterMs: row.retry,
    resetMs: row.reset,
    limit: rule.limit,
  };
}

function noRow(): Error {
  return classifyPgError(new Error('The rate limit statement returned no row'));
}

/**
 * A {@link RateLimitStore} on a PostgreSQL storage: one statement per decision — decisions asked in one turn
 * of the event loop with the same rule and units on distinct keys share one (at most 64; see the module) — the
 * database server's clock
 * (`clock_timestamp()`), so processes on several machines agree on time without trusting theirs. The storage
 * must be open; the `ratelimit` migrations run on first use. `close()` leaves the storage open (it is the
 * caller's). Failures are `FND_STORAGE_UNAVAILABLE` (server unreachable) or `FND_STORAGE_QUERY_FAILED`; a bad
 * key, rule or unit count is `FND_PROTECT_INVALID_POLICY` before any statement runs.
 *
 * @example
 * ```ts
 * const store = new PostgresRateLimitStore(storage);
 * const d = await store.consume('tenant:7', { algorithm: 'sliding_window', limit: 100, windowMs: 60_000 }, 1);
 * if (!d.allowed) console.log(`retry in ${d.retryAfterMs} ms`);
 * ```
 */
export class PostgresRateLimitStore implements RateLimitStore {
  /** Always `postgres`: the state lives in the database, shared by every process on it. */
  readonly kind = 'postgres';
  readonly #access: PostgresCapability;
  /** Decisions waiting for the end of this turn of the event loop. */
  #queue: PendingConsume[] = [];

  /** @param storage - a PostgreSQL storage (open before the first call). */
  constructor(storage: Storage) {
    this.#access = new PostgresCapability(
      storage,
      'ratelimit',
      RATELIMIT_MIGRATIONS,
      'PostgreSQL rate limit store',
    );
  }

  /** Runs the migrations now instead of on the first decision. */
  async open(): Promise<void> {
    await this.#access.ready();
  }

  /** {@inheritDoc RateLimitStore.consume} */
  async consume(key: string, rule: RateLimitRule, n: number): Promise<RateLimitDecision> {
    checkRateLimitCall(key, rule, n);
    // Queued: the decisions of this turn are planned into statements when it ends (see the module).
    return new Promise<RateLimitDecision>((resolve, reject) => {
      const queue = this.#queue;
      queue.push({ key, rule, n, resolve, reject });
      if (queue.length === 1) queueMicrotask(this.#flush);
    });
  }

  /** {@inheritDoc RateLimitStore.status} */
  async status(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    checkRateLimitCall(key, rule, 0);
    return this.#decide(STATUS, key, rule, 0);
  }

  /** {@inheritDoc RateLimitStore.reset} */
  async reset(key: string): Promise<void> {
    checkRateLimitCall(key, { algorithm: 'fixed_window', limit: 1, windowMs: 1 }, 0);
    const pool = await this.#access.ready();
    try {
      await pool.query({ name: RESET.name, text: RESET.text, values: [key] });
    } catch (error) {
      throw classifyPgError(error);
    }
  }

  /** Holds `key` for `ms` (see the port): one upsert, the database's clock; the key's state is kept. */
  async hold(key: string, ms: number): Promise<void> {
    checkRateLimitKey(key);
    checkRateLimitHold(ms);
    const pool = await this.#access.ready();
    try {
      await pool.query({ name: HOLD.name, text: HOLD.text, values: [key, Math.ceil(ms)] });
    } catch (error) {
      throw classifyPgError(error);
    }
  }

  /** Keys whose row is live (state or hold), starting with `prefix`: one SELECT, sorted, at most `limit`. */
  async keys(limit: number, prefix = ''): Promise<string[]> {
    checkRateLimitListing(limit, prefix);
    const pool = await this.#access.ready();
    try {
      const result = await pool.query<{ key: string }>({
        name: KEYS.name,
        text: KEYS.text,
        values: [prefix, limit],
      });
      return result.rows.map((row) => row.key).sort();
    } catch (error) {
      throw classifyPgError(error);
    }
  }

  /** Deletes the rows that are as good as absent (their allowance is full again); returns how many. */
  async purgeExpired(): Promise<number> {
    const pool = await this.#access.ready();
    try {
      return (await pool.query({ name: PURGE.name, text: PURGE.text })).rowCount ?? 0;
    } catch (error) {
      throw classifyPgError(error);
    }
  }

  /** Does nothing: the storage is the caller's and stays open. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Plans and runs the queued decisions: round after round, each round's statements at once. */
  readonly #flush = (): void => {
    const queue = this.#queue;
    this.#queue = [];
    // A lone decision (the sequential case) skips the planning.
    void (queue.length === 1 ? this.#consumeBatch(queue) : this.#run(queue));
  };

  async #run(queue: readonly PendingConsume[]): Promise<void> {
    let pending = queue;
    while (pending.length > 0) {
      const { statements, later } = planRound(pending);
      await Promise.all(statements.map((statement) => this.#consumeBatch(statement)));
      pending = later;
    }
  }

  /** Runs one statement of `batch` (distinct keys, one signature) and settles each caller; never rejects. */
  async #consumeBatch(batch: readonly PendingConsume[]): Promise<void> {
    const first = batch[0];
    if (first === undefined) return;
    if (batch.length === 1) {
      try {
        first.resolve(await this.#decide(CONSUME, first.key, first.rule, first.n));
      } catch (error) {
        first.reject(error);
      }
      return;
    }
    let rows: Map<string, KeyedDecisionRow>;
    try {
      rows = await this.#consumeMany(
        batch.map((d) => d.key),
        first.rule,
        first.n,
      );
    } catch (error) {
      for (const d of batch) d.reject(error);
      return;
    }
    for (const d of batch) {
      const row = rows.get(wireKey(d.key));
      if (row === undefined) d.reject(noRow());
      else d.resolve(toDecision(row, d.rule));
    }
  }

  /** One batch statement on `keys` (distinct): the rows by key. */
  async #consumeMany(keys: string[], rule: RateLimitRule, n: number): Promise<Map<string, KeyedDecisionRow>> {
    const s = CONSUME_MANY[rule.algorithm];
    const pool: pg.Pool = await this.#access.ready();
    try {
      const result = await pool.query<KeyedDecisionRow>({
        name: s.name,
        text: s.text,
        values: [keys, rule.algorithm, rule.limit, rule.windowMs, ruleCapacity(rule), n],
      });
      return new Map(result.rows.map((row) => [row.key, row]));
    } catch (error) {
      throw classifyPgError(error);
    }
  }

  async #decide(
    statements: Readonly<Record<RateLimitAlgorithm, Statement>>,
    key: string,
    rule: RateLimitRule,
    n: number,
  ): Promise<RateLimitDecision> {
    const s = statements[rule.algorithm];
    const pool: pg.Pool = await this.#access.ready();
    let row: DecisionRow | undefined;
    try {
      const result = await pool.query<DecisionRow>({
        name: s.name,
        text: s.text,
        values: [key, rule.algorithm, rule.limit, rule.windowMs, ruleCapacity(rule), n],
      });
      row = result.rows[0];
    } catch (error) {
      throw classifyPgError(error);
    }
    if (row === undefined) throw noRow();
    return toDecision(row, rule);
  }
}
