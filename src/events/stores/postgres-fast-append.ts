/**
 * The one-round-trip append of a PostgreSQL group: one autocommitted statement that locks the streams, sets
 * their versions, checks the group's ids and expected versions and inserts every event, on the assumption
 * that every request of the group succeeds (the common case). When that assumption fails (an id already
 * stored, an expected version not met) the statement aborts itself and changes nothing, and the group goes
 * through the transactional path (`pgTransaction` + `planGroup`), which judges each request on its own.
 *
 * Measured on the dev machine (2 cores, fsync on, interleaved rounds, quiet run): single-event appends,
 * one writer: 1 250/s with this statement against 780/s with the four-round-trip transaction (BEGIN, lock +
 * lookup, insert, COMMIT); batches of 100: equal (≈ 25 000 events/s both). Under heavy load both are bound
 * by the commit's fsync and equal. A group of one single-event request (the most common append) has its own
 * statement of scalar parameters, {@link FAST_APPEND_ONE_SQL}.
 *
 * @module
 */
import type pg from 'pg';
import type { AppendOutcome, AppendRequest, PreparedEvent } from '../model/port.js';
import type { ExpectedVersion, StoredEvent } from '../model/types.js';

/**
 * The statement. `locked` creates or locks every stream row (in stream order) and adds the group's event
 * count to its version; RETURNING gives the new version even after waiting for another writer, so
 * `base` (the version before the group) is exact. `gate` is true when every checked request's expected
 * version matches its stream's version before it (base + events of earlier requests). A closed gate makes
 * `type` NULL, so the NOT NULL constraint aborts the statement: nothing of it stays, including the stream
 * versions.
 *
 * An id already stored is not looked up: its insert violates the unique `id` index (on a partitioned table,
 * the `foundation_event_ids` primary key), which aborts the statement the same way, and the store falls back
 * to the transactional path, which answers it as an idempotent retry or an id conflict. Probing the `id`
 * index once per event beforehand (an earlier version of this statement) cost ≈ 0.1–0.25 ms per group of 100
 * for nothing: the insert probes the same index again for its unique check.
 *
 * Data and metadata arrive as one JSON array each (`$16`, `$17`: the events' JSON texts joined, no escaping)
 * and are split by `jsonb_array_elements`, zipped with the other columns by `ROWS FROM`. As `text[]` every
 * JSON text was escaped into an array literal by the driver, parsed back by the server, then cast to JSONB:
 * 2.81 → 2.57 ms per group of 100 events (median of 7 × 100, interleaved), equal for one event.
 *
 * A column whose value is the same for every event of the group (type, time, monotonic time, correlation,
 * causation and parent ids, metadata, node: usually all of them for one batch) arrives as a one-element
 * array, and every row takes that element: `ROWS FROM` pads the shorter arrays with NULL, so a NOT NULL
 * column takes it where its value is NULL, a nullable one when its array has one element (a group of one
 * event means the same either way). Less for the driver to escape, to send and for the server to parse:
 * 1.30 → 1.23 ms of server time per group of 100 in one stream (interleaved, 500 rounds).
 *
 * Every array parameter is sent as the text of a PostgreSQL array literal built here (`{"id1","id2"}`,
 * `{1000}`, `{NULL}`), not as a JavaScript array: the driver escaped those element by element (a regular
 * expression replace, a string and a type test per element), ≈ 25 µs of client CPU per group of 100 events
 * (CPU profile, self time); quoting is skipped for numbers, and an element holding no `"` or `\` is quoted
 * without a replace.
 *
 * The answer is one row ({@link FastAppendRow}): the new positions and stream versions in position order,
 * which is the events' order (they are inserted in `ord` order and each takes the identity's next value as it
 * is inserted). One row instead of one per event: less to send and to parse on both sides. Positions are
 * nearly always consecutive (no other writer took a value of the identity in between): then only the first
 * is sent, and the list (`string_agg`, in a subquery the server runs only when needed) otherwise; so are the
 * stream versions of a group in one stream ({@link FAST_APPEND_STREAM_SQL}: the first, then one more per
 * event), while {@link FAST_APPEND_SQL} sends them as a list (empty: no stream). Parsing two lists of 100
 * numbers cost the client ≈ 8 µs per group.
 */
export const FAST_APPEND_SQL = `
WITH locked AS (
  INSERT INTO foundation_streams AS s (stream, version)
  SELECT x.stream, x.added FROM unnest($1::text[], $2::bigint[]) AS x(stream, added) ORDER BY x.stream
  ON CONFLICT (stream) DO UPDATE SET version = s.version + EXCLUDED.version
  RETURNING s.stream, s.version
), base AS (
  SELECT l.stream, l.version - x.added AS version
  FROM locked l JOIN unnest($1::text[], $2::bigint[]) AS x(stream, added) ON x.stream = l.stream
), gate AS (
  SELECT NOT EXISTS (
      SELECT 1 FROM unnest($4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) AS c(stream, before, lo, hi)
      LEFT JOIN base b ON b.stream = c.stream
      WHERE COALESCE(b.version, 0) + c.before NOT BETWEEN c.lo AND c.hi
    ) AS ok,
    pg_notify($19::text, '') AS notified
), appended AS (
  INSERT INTO foundation_events
    (id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node)
  SELECT e.id, CASE WHEN g.ok THEN COALESCE(e.type, ($8::text[])[1]) END, e.stream, b.version + e.off,
    COALESCE(e.time, ($11::bigint[])[1]), COALESCE(e.monotonic, ($12::float8[])[1]),
    CASE WHEN cardinality($13::text[]) = 1 THEN ($13::text[])[1] ELSE e.correlation_id END,
    CASE WHEN cardinality($14::text[]) = 1 THEN ($14::text[])[1] ELSE e.causation_id END,
    CASE WHEN cardinality($15::text[]) = 1 THEN ($15::text[])[1] ELSE e.parent_id END,
    e.data, COALESCE(e.metadata, $17::jsonb -> 0), COALESCE(e.node, ($18::text[])[1])
  FROM ROWS FROM (unnest($3::text[]), unnest($8::text[]), unnest($9::text[]), unnest($10::bigint[]),
    unnest($11::bigint[]), unnest($12::float8[]), unnest($13::text[]), unnest($14::text[]), unnest($15::text[]),
    jsonb_array_elements($16::jsonb), jsonb_array_elements($17::jsonb), unnest($18::text[]))
    WITH ORDINALITY AS e(id, type, stream, off, time, monotonic, correlation_id, causation_id, parent_id, data,
      metadata, node, ord)
  CROSS JOIN gate g
  LEFT JOIN base b ON b.stream = e.stream
  ORDER BY e.ord
  RETURNING position, stream_version
), summary AS (
  SELECT min(position) AS first, max(position) AS last, count(*) AS n FROM appended
)
SELECT s.first::text AS first_position, NULL::text AS first_version,
  CASE WHEN s.last - s.first + 1 <> s.n
    THEN (SELECT string_agg(position::text, ',' ORDER BY position) FROM appended) END AS positions,
  (SELECT string_agg(COALESCE(stream_version::text, ''), ',' ORDER BY position) FROM appended) AS versions
FROM summary s`;

/**
 * {@link FAST_APPEND_SQL} for a group whose events all belong to one stream (a batch of one aggregate, the
 * most common batch): the same parameters, the stream's row upserted from the one-element `$1`/`$2`, its
 * version before the group read from that row, no joins on stream names (measured, interleaved 500 groups
 * of 100 on one connection: 1.31 → 1.25 ms median, synchronous_commit off). `$4` (the checked requests'
 * stream) is that stream on every element, and `$9` (the events' streams) is sent as `[stream]`. An event's
 * offset in the stream is its ordinal in the group, so `$10` is sent empty.
 */
export const FAST_APPEND_STREAM_SQL = `
WITH locked AS (
  INSERT INTO foundation_streams AS s (stream, version)
  VALUES (($1::text[])[1], ($2::bigint[])[1])
  ON CONFLICT (stream) DO UPDATE SET version = s.version + EXCLUDED.version
  RETURNING s.version - ($2::bigint[])[1] AS version
), gate AS (
  SELECT l.version,
    NOT EXISTS (
      SELECT 1 FROM unnest($4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) AS c(stream, before, lo, hi)
      WHERE l.version + c.before NOT BETWEEN c.lo AND c.hi
    ) AS ok,
    pg_notify($19::text, '') AS notified
  FROM locked l
), appended AS (
  INSERT INTO foundation_events
    (id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node)
  SELECT e.id, CASE WHEN g.ok THEN COALESCE(e.type, ($8::text[])[1]) END, ($1::text[])[1], g.version + e.ord,
    COALESCE(e.time, ($11::bigint[])[1]), COALESCE(e.monotonic, ($12::float8[])[1]),
    CASE WHEN cardinality($13::text[]) = 1 THEN ($13::text[])[1] ELSE e.correlation_id END,
    CASE WHEN cardinality($14::text[]) = 1 THEN ($14::text[])[1] ELSE e.causation_id END,
    CASE WHEN cardinality($15::text[]) = 1 THEN ($15::text[])[1] ELSE e.parent_id END,
    e.data, COALESCE(e.metadata, $17::jsonb -> 0), COALESCE(e.node, ($18::text[])[1])
  FROM ROWS FROM (unnest($3::text[]), unnest($8::text[]), unnest($9::text[]), unnest($10::bigint[]),
    unnest($11::bigint[]), unnest($12::float8[]), unnest($13::text[]), unnest($14::text[]), unnest($15::text[]),
    jsonb_array_elements($16::jsonb), jsonb_array_elements($17::jsonb), unnest($18::text[]))
    WITH ORDINALITY AS e(id, type, stream, off, time, monotonic, correlation_id, causation_id, parent_id, data,
      metadata, node, ord)
  CROSS JOIN gate g
  ORDER BY e.ord
  RETURNING position, stream_version
), summary AS (
  SELECT min(position) AS first, max(position) AS last, count(*) AS n, min(stream_version) AS version
  FROM appended
)
SELECT s.first::text AS first_position, s.version::text AS first_version,
  CASE WHEN s.last - s.first + 1 <> s.n
    THEN (SELECT string_agg(position::text, ',' ORDER BY position) FROM appended) END AS positions,
  NULL::text AS versions
FROM summary s`;

/**
 * The same for a group of one single-event request, the most common append: scalar parameters instead of
 * arrays, no `unnest`, no joins (measured, interleaved 7 × 300 on one connection: 387 µs against 424 µs for
 * {@link FAST_APPEND_SQL}, and 372 µs for a bare `INSERT` plus the stream upsert). A stored id is refused by
 * the unique `id` index, as in {@link FAST_APPEND_SQL}. The gate works the same way: `$12`/`$13` are the
 * expected version's range (null when unchecked), and a closed gate makes `type` NULL. The answer has the same
 * shape as {@link FAST_APPEND_SQL}'s (one row: the position and the version, null without a stream).
 */
export const FAST_APPEND_ONE_SQL = `
WITH notified AS (
  SELECT pg_notify($14::text, '')
), locked AS (
  INSERT INTO foundation_streams AS s (stream, version)
  SELECT $3::text, 1 WHERE $3::text IS NOT NULL
  ON CONFLICT (stream) DO UPDATE SET version = s.version + 1
  RETURNING s.version
)
INSERT INTO foundation_events
  (id, type, stream, stream_version, time, monotonic, correlation_id, causation_id, parent_id, data, metadata, node)
SELECT $1::text,
  CASE WHEN $12::bigint IS NULL OR COALESCE(l.version - 1, 0) BETWEEN $12::bigint AND $13::bigint THEN $2::text END,
  $3::text, l.version, $4::bigint, $5::float8, $6::text, $7::text, $8::text, $9::jsonb, $10::jsonb, $11::text
FROM notified LEFT JOIN locked l ON true
RETURNING position::text AS first_position, stream_version::text AS first_version, NULL::text AS positions,
  NULL::text AS versions`;

/** Largest version an expected-version range can name (`stream_exists` is 1 … this). */
const MAX_VERSION = Number.MAX_SAFE_INTEGER;

/** A fast append statement and its values. */
export interface FastAppend {
  readonly statement: { readonly name: string; readonly text: string };
  readonly values: unknown[];
}

/**
 * The fast statement of a group ({@link FAST_APPEND_ONE_SQL} for one single-event request, else
 * {@link FAST_APPEND_SQL}) with its values (the last one: the notification `channel` of live
 * subscriptions, see `postgres-listener.ts`), or `undefined` when the group cannot take the fast path (the same
 * id twice in the group: the transactional path answers the repeat idempotently).
 */
export function fastAppendStatement(
  requests: readonly AppendRequest[],
  channel: string,
): FastAppend | undefined {
  const only = requests.length === 1 ? requests[0] : undefined;
  const event = only?.events.length === 1 ? only.events[0] : undefined;
  if (only !== undefined && event !== undefined && (only.stream === null || only.stream === event.stream)) {
    const expected = only.expectedVersion;
    const checked = expected !== 'any' && only.stream !== null;
    return {
      statement: ONE,
      values: [
        event.id,
        event.type,
        event.stream,
        event.time,
        event.monotonic,
        event.correlationId,
        event.causationId,
        event.parentId,
        event.dataJson,
        event.metadataJson,
        event.node,
        checked ? lowVersion(expected) : null,
        checked ? highVersion(expected) : null,
        channel,
      ],
    };
  }
  const params = groupParams(requests);
  if (params === undefined) return undefined;
  params.values.push(channel);
  return { statement: params.oneStream ? ONE_STREAM : MANY, values: params.values };
}

const ONE = { name: 'fnd_events_fast_append_one', text: FAST_APPEND_ONE_SQL } as const;
const MANY = { name: 'fnd_events_fast_append', text: FAST_APPEND_SQL } as const;
const ONE_STREAM = { name: 'fnd_events_fast_append_stream', text: FAST_APPEND_STREAM_SQL } as const;

/** Lowest stream version before the append that an expected version accepts. */
function lowVersion(expected: Exclude<ExpectedVersion, 'any'>): number {
  return expected === 'no_stream' ? 0 : expected === 'stream_exists' ? 1 : expected;
}

/** Highest stream version before the append that an expected version accepts. */
function highVersion(expected: Exclude<ExpectedVersion, 'any'>): number {
  return expected === 'no_stream' ? 0 : expected === 'stream_exists' ? MAX_VERSION : expected;
}

/**
 * The parameters of {@link FAST_APPEND_SQL} for a group, or `undefined` when the group cannot take the fast
 * path (the same id twice in the group).
 */
export function fastAppendParams(requests: readonly AppendRequest[]): unknown[] | undefined {
  return groupParams(requests)?.values;
}

/**
 * {@link fastAppendParams} and whether every event of the group belongs to one stream (the group can take
 * {@link FAST_APPEND_STREAM_SQL}). Array parameters go as PostgreSQL array literals built here (see
 * {@link textArray}), not as JavaScript arrays for the driver to escape element by element.
 */
function groupParams(
  requests: readonly AppendRequest[],
): { readonly values: unknown[]; readonly oneStream: boolean } | undefined {
  const events =
    requests.length === 1 ? (requests[0] as AppendRequest).events : requests.flatMap((r) => r.events);
  if (hasDuplicateId(events)) return undefined;
  let streamless = false;
  const added = new Map<string, number>();
  const checkStream: string[] = [];
  const checkBefore: number[] = [];
  const checkLow: number[] = [];
  const checkHigh: number[] = [];
  for (const request of requests) {
    const expected = request.expectedVersion;
    if (expected !== 'any' && request.stream !== null) {
      checkStream.push(request.stream);
      checkBefore.push(added.get(request.stream) ?? 0);
      checkLow.push(lowVersion(expected));
      checkHigh.push(highVersion(expected));
    }
    for (const event of request.events) {
      if (event.stream === null) streamless = true;
      else added.set(event.stream, (added.get(event.stream) ?? 0) + 1);
    }
  }
  const first = events[0] as PreparedEvent;
  let id = quoteElement(first.id);
  let data = first.dataJson;
  let sameType = true;
  let sameTime = true;
  let sameMonotonic = true;
  let sameCorrelation = true;
  let sameCausation = true;
  let sameParent = true;
  let sameMetadata = true;
  let sameNode = true;
  for (let i = 1; i < events.length; i++) {
    const e = events[i] as PreparedEvent;
    id += ',' + quoteElement(e.id);
    data += ',' + e.dataJson;
    sameType &&= e.type === first.type;
    sameTime &&= e.time === first.time;
    sameMonotonic &&= e.monotonic === first.monotonic;
    sameCorrelation &&= e.correlationId === first.correlationId;
    sameCausation &&= e.causationId === first.causationId;
    sameParent &&= e.parentId === first.parentId;
    sameMetadata &&= e.metadataJson === first.metadataJson;
    sameNode &&= e.node === first.node;
  }
  const streams = [...added.keys()];
  const oneStream = !streamless && streams.length === 1 && checkStream.every((name) => name === streams[0]);
  const column = <T>(same: boolean, value: (e: PreparedEvent) => T, encode: (v: T) => string): string =>
    same ? `{${encode(value(first))}}` : textArray(events, (e) => encode(value(e)));
  const values: unknown[] = [
    textArray(streams, quoteElement),
    textArray(streams, (name) => String(added.get(name))),
    `{${id}}`,
    textArray(checkStream, quoteElement),
    textArray(checkBefore, String),
    textArray(checkLow, String),
    textArray(checkHigh, String),
    column(sameType, (e) => e.type, quoteElement),
    // One stream: `[stream]`, and the offsets are the events' ordinals (FAST_APPEND_STREAM_SQL).
    oneStream ? `{${quoteElement(streams[0] as string)}}` : textArray(events, (e) => nullable(e.stream)),
    oneStream ? '{}' : offsets(events),
    column(sameTime, (e) => e.time, String),
    column(sameMonotonic, (e) => e.monotonic, String),
    column(sameCorrelation, (e) => e.correlationId, nullable),
    column(sameCausation, (e) => e.causationId, nullable),
    column(sameParent, (e) => e.parentId, nullable),
    `[${data}]`,
    sameMetadata ? `[${first.metadataJson}]` : `[${events.map((e) => e.metadataJson).join(',')}]`,
    column(sameNode, (e) => e.node, quoteElement),
  ];
  return { values, oneStream };
}

/**
 * Whether two events of the group have one id. Generated ids grow within a batch: a group whose ids are
 * strictly increasing has no repeat and needs no set.
 */
function hasDuplicateId(events: readonly PreparedEvent[]): boolean {
  let increasing = true;
  for (let i = 1; i < events.length && increasing; i++) {
    increasing = (events[i - 1] as PreparedEvent).id < (events[i] as PreparedEvent).id;
  }
  if (increasing) return false;
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) return true;
    seen.add(event.id);
  }
  return false;
}

/** The events' offsets in their streams (1, 2, … per stream; NULL without a stream), as an array literal. */
function offsets(events: readonly PreparedEvent[]): string {
  const counts = new Map<string, number>();
  return textArray(events, (e) => {
    if (e.stream === null) return 'NULL';
    const off = (counts.get(e.stream) ?? 0) + 1;
    counts.set(e.stream, off);
    return String(off);
  });
}

/** Characters a quoted array element must escape. */
const ELEMENT_ESCAPES = /[\\"]/;

/**
 * `s` as a quoted element of a PostgreSQL array literal: inside double quotes every character stands for
 * itself (spaces, commas, braces, `NULL`) except `"` and `\`, which take a backslash.
 */
export function quoteElement(s: string): string {
  return ELEMENT_ESCAPES.test(s) ? `"${s.replace(/[\\"]/g, '\\$&')}"` : `"${s}"`;
}

/** A nullable text element: `NULL` (unquoted) or the quoted text. */
function nullable(s: string | null): string {
  return s === null ? 'NULL' : quoteElement(s);
}

/**
 * The array literal (`{a,b}`) of `values`, each written by `encode` (a quoted text, a number, `NULL`). The
 * driver's generic escaping of a JavaScript array (a regular expression replace and a string per element, a
 * type test per value) was ≈ 25 µs per group of 100 events (measured with the CPU profiler); these literals
 * take a few.
 */
export function textArray<T>(values: readonly T[], encode: (value: T) => string): string {
  if (values.length === 0) return '{}';
  let out = '{' + encode(values[0] as T);
  for (let i = 1; i < values.length; i++) out += ',' + encode(values[i] as T);
  return out + '}';
}

/** Whether a failure of a fast statement is its closed gate (the NOT NULL violation on `type`). */
export function isClosedGate(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; column?: unknown };
  return e.code === '23502' && e.column === 'type';
}

/**
 * The answer of a fast statement (see {@link FAST_APPEND_SQL}): the first position, and the list of every
 * position when they are not consecutive; the first stream version when the versions run on from it (one
 * stream), else the list of every version (empty: no stream).
 */
export interface FastAppendRow {
  /** Position of the group's first event. */
  readonly first_position: string;
  /** Comma-separated positions in event order, or null when they are `first_position`, +1, +2… */
  readonly positions: string | null;
  /** Version of the first event when the others run on from it (+1, +2…), else null. */
  readonly first_version: string | null;
  /** Comma-separated versions in event order (empty: no stream), or null (see `first_version`). */
  readonly versions: string | null;
}

/**
 * Runs the fast statement; the outcomes of a group that went through whole. Throws the driver's error.
 */
export async function fastAppend(
  pool: pg.Pool,
  requests: readonly AppendRequest[],
  fast: FastAppend,
): Promise<AppendOutcome[]> {
  const result = await pool.query<FastAppendRow>({
    name: fast.statement.name,
    text: fast.statement.text,
    values: fast.values,
  });
  return fastOutcomes(requests, result.rows[0] as FastAppendRow);
}

/**
 * The outcomes of a group from the answer of its fast statement: the n-th position and version belong to the
 * group's n-th event (requests in order, their events in order), the order the statement inserted them in.
 */
export function fastOutcomes(requests: readonly AppendRequest[], row: FastAppendRow): AppendOutcome[] {
  const first = Number(row.first_position);
  const positions = row.positions?.split(',');
  const firstVersion = row.first_version === null ? null : Number(row.first_version);
  const versions = row.versions?.split(',');
  const outcomes = new Array<AppendOutcome>(requests.length);
  let k = 0;
  for (let r = 0; r < requests.length; r++) {
    const prepared = (requests[r] as AppendRequest).events;
    const events = new Array<StoredEvent>(prepared.length);
    for (let j = 0; j < prepared.length; j++, k++) {
      const event = prepared[j] as PreparedEvent;
      let streamVersion: number | null;
      if (versions === undefined) streamVersion = firstVersion === null ? null : firstVersion + k;
      else {
        const version = versions[k];
        streamVersion = version === undefined || version === '' ? null : Number(version);
      }
      events[j] = {
        id: event.id,
        type: event.type,
        stream: event.stream,
        streamVersion,
        position: positions === undefined ? first + k : Number(positions[k]),
        time: event.time,
        monotonic: event.monotonic,
        correlationId: event.correlationId,
        causationId: event.causationId,
        parentId: event.parentId,
        data: event.data,
        metadata: event.metadata,
        node: event.node,
      };
    }
    outcomes[r] = { ok: true, idempotent: false, events };
  }
  return outcomes;
}
