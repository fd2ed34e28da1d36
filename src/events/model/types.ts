/**
 * The event model: what callers append, what the store returns, expected versions, the query DSL and
 * aggregations. Pure types, shared by the service, every store and the control bus.
 *
 * @module
 */

/** A JSON value: what event data and metadata may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** What a caller appends. Only `type` is required. */
export interface EventInput {
  /** Time-ordered unique id (UUIDv7). Generated when absent; give one to make a retry idempotent. */
  readonly id?: string;
  /** Dotted lowercase name, e.g. `order.created` (segments `[a-z0-9_-]`, 1–200 chars). */
  readonly type: string;
  /** Stream the event belongs to (e.g. `order-42`); events without a stream are in the global log only. */
  readonly stream?: string;
  /** JSON payload. Defaults to `{}`. */
  readonly data?: JsonValue;
  /** JSON metadata object. Defaults to `{}`. */
  readonly metadata?: JsonObject;
  /** Defaults to the current context's correlation id. */
  readonly correlationId?: string;
  /** Defaults to the current context's operation id. */
  readonly causationId?: string;
  /** Id of a parent event (e.g. the command event this one answers). */
  readonly parentId?: string;
}

/** An event as stored. */
export interface StoredEvent {
  /** The event id: given by the caller (the idempotency key of a retried append) or a generated UUID. */
  readonly id: string;
  /** The event type, e.g. `order.created`. */
  readonly type: string;
  /** The stream the event belongs to, or `null` for an event without a stream. */
  readonly stream: string | null;
  /** 1-based version within the stream; `null` for events without a stream. */
  readonly streamVersion: number | null;
  /** Global position in the log, 1-based, strictly increasing in commit order of a store. */
  readonly position: number;
  /** Wall-clock ms when appended. */
  readonly time: number;
  /** Monotonic ms (node-local clock) when appended; for ordering and durations on one node only. */
  readonly monotonic: number;
  /** The correlation id of the operation that appended it, or `null`. */
  readonly correlationId: string | null;
  /** The id of the operation or event that caused it, or `null`. */
  readonly causationId: string | null;
  /** The id of a parent event (e.g. the command event this one answers), or `null`. */
  readonly parentId: string | null;
  /** The event's payload (JSON). */
  readonly data: JsonValue;
  /** Free-form JSON metadata of the event. */
  readonly metadata: JsonObject;
  /** Name of the node that appended it. */
  readonly node: string;
}

/**
 * What the caller expects of the stream before the append:
 * `any` (no check), `no_stream` (the stream has no events), `stream_exists` (it has at least one),
 * or a number: the stream's current version (0 is the same as `no_stream`).
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

/** Options of an append. */
export interface AppendOptions {
  /** Checked against the stream of the events (all events of a checked append must share one stream). */
  readonly expectedVersion?: ExpectedVersion;
}

/** Result of an append. */
export interface AppendResult {
  /** The stored events, in the order given. */
  readonly events: readonly StoredEvent[];
  /** The stream's version after the append (`null` when the events have no stream). */
  readonly streamVersion: number | null;
  /** Position of the last event. */
  readonly position: number;
  /** True when every event already existed with the same content and nothing new was written. */
  readonly idempotent: boolean;
  /**
   * Present (true) when PostgreSQL was unreachable and the events were written to the local outage spool
   * (see docs/event-spool.md): they are durable on this node and will be replayed in order; their positions
   * are 0 and stream versions `null` until then.
   */
  readonly spooled?: boolean;
}

/** Direction of a read. */
export type ReadDirection = 'forward' | 'backward';

/** Options of `readStream`. */
export interface ReadStreamOptions {
  /** First stream version to return (inclusive). Forward default 1; backward default the last. */
  readonly from?: number;
  /** `forward` (oldest first, the default) or `backward` (newest first). */
  readonly direction?: ReadDirection;
  /** At most this many events (default 1000, max 10 000). */
  readonly limit?: number;
}

/** Options of `readAll`. */
export interface ReadAllOptions {
  /** Return events with a position after this one (default 0: from the start). */
  readonly afterPosition?: number;
  /** At most this many events (default 1000, max 10 000). */
  readonly limit?: number;
}

// ── query DSL ──────────────────────────────────────────────────────────────────────────────────────

/** A scalar a predicate compares with. */
export type QueryScalar = string | number | boolean | null;

/** Predicate operators on a JSON path. */
export type PredicateOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'contains' | 'exists';

/**
 * A predicate on a JSON path of `data` or `metadata`: `path` is `data.<a>.<b>` or `metadata.<a>` (segments
 * `[A-Za-z0-9_-]`, array indexes as numeric segments, at most 16 segments).
 *
 * Semantics (identical on every store):
 * - `eq` / `ne`: the value at the path equals / does not equal the scalar (same JSON type and value; `ne`
 *   also matches a missing path). `eq null` matches a JSON null, not a missing path.
 * - `gt` `gte` `lt` `lte`: value and operand are both numbers or both strings (strings compare by code
 *   point); otherwise no match.
 * - `in`: `value` is an array of 1–100 scalars; matches when the value at the path `eq`s one of them.
 * - `contains`: on a string, substring match (case-sensitive); on an array, it holds an element `eq` to
 *   the scalar; otherwise no match.
 * - `exists`: `value` true → the path is present (even if null); false → absent.
 */
export interface QueryPredicate {
  /** The JSON path compared: `data.<a>.<b>` or `metadata.<a>`. */
  readonly path: string;
  /** The comparison (see the semantics above). */
  readonly op: PredicateOp;
  /** The operand: a scalar, an array for `in`, a boolean for `exists`. */
  readonly value?: QueryScalar | readonly QueryScalar[];
}

/**
 * A query over the log. All filters are ANDed.
 * Type patterns: an exact type (`order.created`), a prefix (`order.*` matches every type that starts with
 * `order.`), or `*` (every type). Up to 20 patterns, ORed.
 */
export interface EventQuery {
  /** Type patterns (exact, `prefix.*` or `*`), ORed; default every type. */
  readonly types?: readonly string[];
  /** Only events of this stream. */
  readonly stream?: string;
  /** Only events with this correlation id. */
  readonly correlationId?: string;
  /** Wall time range on `time`, ms since epoch: `from` inclusive, `to` exclusive. */
  readonly from?: number;
  /** End of the wall time range on `time`, ms since epoch, exclusive. */
  readonly to?: number;
  /** Predicates on `data` and `metadata`, ANDed. */
  readonly where?: readonly QueryPredicate[];
  /** By position. Default `asc`. */
  readonly order?: 'asc' | 'desc';
  /** Default {@link DEFAULT_QUERY_LIMIT}, at most {@link MAX_QUERY_LIMIT}. */
  readonly limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** A page of query results. */
export interface QueryPage {
  /** The matching events of this page, in the query's order. */
  readonly events: readonly StoredEvent[];
  /** Present when more events may match: pass it as `cursor` with the same query. */
  readonly nextCursor: string | undefined;
}

/** Aggregation over the events a query's filters match (its order, limit and cursor are ignored). */
export interface AggregateQuery {
  /** The filters of a query (types, stream, correlation id, time range, predicates); default every event. */
  readonly filter?: Omit<EventQuery, 'order' | 'limit' | 'cursor'>;
  /** Group by event type, or by a time bucket of `time`. */
  readonly groupBy: 'type' | 'time';
  /** Bucket width in ms when grouping by time (≥ 1000, and at most 10 000 buckets over the range). */
  readonly bucketMs?: number;
}

/** One group of an aggregation. `key` is the type, or the bucket's start (ms) as a number. */
export interface AggregateGroup {
  /** The event type, or the bucket's start (ms since epoch). */
  readonly key: string | number;
  /** How many matching events are in the group. */
  readonly count: number;
}

/** Default page size of a query. */
export const DEFAULT_QUERY_LIMIT = 100;
/** Largest page size of a query. */
export const MAX_QUERY_LIMIT = 1000;
/** Default batch of `readStream` / `readAll`. */
export const DEFAULT_READ_LIMIT = 1000;
/** Largest batch of `readStream` / `readAll`. */
export const MAX_READ_LIMIT = 10_000;

/** A node of a correlation chain: an event and the events it caused (causationId = its id or parent). */
export interface CausationNode {
  /** The event of this node. */
  readonly event: StoredEvent;
  /** The events it caused, by position. */
  readonly children: readonly CausationNode[];
}
