/**
 * Rate-limit state in PostgreSQL (the storage's schema, table `rate_limits`), shared by every process on the
 * database. A decision is one parameterized statement: `INSERT … ON CONFLICT (key) DO UPDATE` whose SET is a
 * sub-select computing the algorithm from the locked row, with `clock_timestamp()` as the clock — so
 * concurrent decisions on one key serialize on its row lock and never read stale state. `status` is one
 * SELECT with the same math and writes nothing. The statements, and what the columns hold, are in
 * `postgres-statements.ts`; the planning of a turn's batches in `postgres-batch.ts`.
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
 * `status` reads of one turn are batched too: one SELECT per rule for up to 64 keys (repeats allowed: it
 * writes nothing), so an operator's listing of a limiter's keys, whose statuses are asked together, is two
 * statements instead of one per key. `hold`, `reset` and `keys` are one statement each, sent at once. A
 * `status`, `hold` or `reset` asked after a `consume` in the same turn does not wait for it.
 *
 * @module
 */
import type pg from 'pg';
import { classifyPgError, PostgresCapability, type Storage } from '../../storage/index.js';
import { checkRateLimitCall, ruleCapacity } from './create-store.js';
import { checkRateLimitHold, checkRateLimitKey, checkRateLimitListing } from './checks.js';
import { RATELIMIT_MIGRATIONS } from './migrations.js';
import { batchSignature, MAX_BATCH, planRound, wireKey, type PendingConsume } from './postgres-batch.js';
import {
  CONSUME,
  CONSUME_MANY,
  HOLD,
  KEYS,
  PURGE,
  RESET,
  STATUS,
  STATUS_MANY,
  type Statement,
} from './postgres-statements.js';
import type { RateLimitAlgorithm, RateLimitDecision, RateLimitRule, RateLimitStore } from './types.js';

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
  /** Status reads waiting for the end of this turn of the event loop (`n` 0). */
  #statuses: PendingConsume[] = [];

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
    // Queued like consume: the statuses of this turn with the same rule share one SELECT (see the module).
    return new Promise<RateLimitDecision>((resolve, reject) => {
      const queue = this.#statuses;
      queue.push({ key, rule, n: 0, resolve, reject });
      if (queue.length === 1) queueMicrotask(this.#flushStatuses);
    });
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

  /** Runs the queued statuses: one SELECT per rule and {@link MAX_BATCH} keys, a lone one on its own. */
  readonly #flushStatuses = (): void => {
    const queue = this.#statuses;
    this.#statuses = [];
    const groups = new Map<string, PendingConsume[]>();
    for (const d of queue) {
      const signature = batchSignature(d);
      const group = groups.get(signature);
      if (group === undefined) groups.set(signature, [d]);
      else group.push(d);
    }
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += MAX_BATCH) void this.#statusBatch(group.slice(i, i + MAX_BATCH));
    }
  };

  /** One SELECT for `batch` (one signature; repeated keys allowed) and settles each caller; never rejects. */
  async #statusBatch(batch: readonly PendingConsume[]): Promise<void> {
    const first = batch[0] as PendingConsume;
    try {
      if (batch.length === 1) {
        first.resolve(await this.#decide(STATUS, first.key, first.rule, 0));
        return;
      }
      const rows = await this.#many(STATUS_MANY, batch, first.rule, 0);
      for (const d of batch) {
        const row = rows.get(wireKey(d.key));
        if (row === undefined) d.reject(noRow());
        else d.resolve(toDecision(row, d.rule));
      }
    } catch (error) {
      for (const d of batch) d.reject(error);
    }
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
      rows = await this.#many(CONSUME_MANY, batch, first.rule, first.n);
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

  /** One batch statement (`CONSUME_MANY` or `STATUS_MANY`) on the keys of `batch`: the rows by key. */
  async #many(
    statements: Readonly<Record<RateLimitAlgorithm, Statement>>,
    batch: readonly PendingConsume[],
    rule: RateLimitRule,
    n: number,
  ): Promise<Map<string, KeyedDecisionRow>> {
    const s = statements[rule.algorithm];
    const pool: pg.Pool = await this.#access.ready();
    const keys = batch.map((d) => d.key);
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
