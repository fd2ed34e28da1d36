/**
 * Validation and preparation of appended events: the service's hot path. Every input is checked, completed
 * (id, time, node, correlation and causation from the context) and its data/metadata stringified once.
 * All-or-nothing: the first bad event throws and nothing is prepared.
 *
 * Rules:
 * - an input is a plain object with only the keys of `EventInput` (unknown keys are rejected, so a typo such
 *   as `stram` cannot silently drop a stream);
 * - `type`: `^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$`, at most 200 characters;
 * - `stream` (optional, `null` = none): 1–200 characters, no control characters;
 * - `id` (optional, generated when absent): {@link isEventId}, unique within the batch;
 * - `correlationId`, `causationId`, `parentId`: {@link isEventId} (1–128 of `[A-Za-z0-9._:-]`); correlation
 *   and causation default to `ctx` (trusted, not re-checked);
 * - `data`: any strict JSON value (default `{}`); `metadata`: a plain JSON object (default `{}`) — see
 *   `findNonJson` for what strict JSON means;
 * - UTF-8 bytes of `dataJson` + `metadataJson` at most `ctx.maxEventBytes`.
 *
 * Errors: `FND_EVENTS_INVALID_EVENT` (context: index, field, reason), `FND_EVENTS_NOT_JSON` (index, field,
 * path, reason), `FND_EVENTS_TOO_LARGE` (index, bytes, limit).
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import { isEventId } from './ids.js';
import { checkJson, NEGATIVE_ZERO } from './json-check.js';
import { canonicalJson } from './json-text.js';
import type { PreparedEvent } from './port.js';
import type { EventInput, JsonObject, JsonValue } from './types.js';

/** Longest event type. */
export const MAX_EVENT_TYPE_LENGTH = 200;
/** Longest stream name. */
export const MAX_STREAM_LENGTH = 200;

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;
// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** What {@link prepareEvents} needs from the service besides the inputs. */
export interface PrepareContext {
  /** Wall-clock ms stamped on every event of the batch. */
  readonly now: number;
  /** Monotonic ms stamped on every event of the batch. */
  readonly monotonic: number;
  /** Name of this node. */
  readonly node: string;
  /** Correlation id of the current context: the default of `correlationId`. */
  readonly correlationId?: string | undefined;
  /** Operation id of the current context: the default of `causationId`. */
  readonly causationId?: string | undefined;
  /** Largest UTF-8 size of `dataJson` + `metadataJson` per event. */
  readonly maxEventBytes: number;
  /**
   * Generates an id for an input without one. Its ids must be unique (e.g. `createEventIdGenerator`): a
   * batch is checked for duplicates only among the ids its inputs bring.
   */
  readonly newId: () => string;
}

/** Whether `type` is a valid event type (dotted lowercase segments, at most 200 characters). */
export function isEventType(type: unknown): type is string {
  return typeof type === 'string' && type.length <= MAX_EVENT_TYPE_LENGTH && TYPE_PATTERN.test(type);
}

/** Whether `stream` is a valid stream name (1–200 characters, no control characters). */
export function isStreamName(stream: unknown): stream is string {
  return (
    typeof stream === 'string' &&
    stream.length > 0 &&
    stream.length <= MAX_STREAM_LENGTH &&
    !CONTROL_CHARS.test(stream)
  );
}

function invalid(index: number, field: string, reason: string): FoundationError {
  return new FoundationError('FND_EVENTS_INVALID_EVENT', {
    message: `Event ${index}: ${field} ${reason}`,
    context: { index, field, reason },
  });
}

function notJson(
  index: number,
  field: string,
  path: string,
  reason: string,
  cause?: unknown,
): FoundationError {
  return new FoundationError('FND_EVENTS_NOT_JSON', {
    message: `Event ${index}: ${path} is not JSON (${reason})`,
    context: { index, field, path, reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

function isEmptyPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function optionalId(input: EventInput, field: 'correlationId' | 'causationId' | 'parentId', index: number) {
  const value: unknown = input[field];
  if (value === undefined || value === null) return undefined;
  if (!isEventId(value)) throw invalid(index, field, 'must be 1–128 characters of [A-Za-z0-9._:-]');
  return value;
}

/**
 * The slow pass of `canonicalJson`: the JSON text of `value`, and whether `value` is already what parsing that
 * text gives back; throws the catalog error when `value` is not strict JSON.
 */
function slowStringify(value: unknown, index: number, field: string): { json: string; canonical: boolean } {
  const problem = checkJson(value, field);
  if (problem !== undefined && problem !== NEGATIVE_ZERO) {
    throw notJson(index, field, problem.path, problem.reason);
  }
  try {
    return { json: JSON.stringify(value), canonical: problem === undefined };
  } catch (error) {
    throw notJson(index, field, field, 'JSON.stringify failed', error);
  }
}

/**
 * What the batch's earlier events already established: their last type and stream passed their checks (the
 * events of a batch mostly share both), and whether any of them brought its own id.
 */
interface BatchMemo {
  type: string | undefined;
  stream: string | undefined;
  givenIds: boolean;
}

function prepareOne(raw: unknown, index: number, ctx: PrepareContext, memo: BatchMemo): PreparedEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(index, 'event', 'must be an object');
  }
  const input = raw as EventInput;
  for (const key in input) {
    switch (key) {
      case 'id':
      case 'type':
      case 'stream':
      case 'data':
      case 'metadata':
      case 'correlationId':
      case 'causationId':
      case 'parentId':
        break;
      default:
        throw invalid(index, key, 'is not a field of an event');
    }
  }
  const { type } = input;
  if ((memo.type === undefined || type !== memo.type) && !isEventType(type)) {
    throw invalid(
      index,
      'type',
      `must match ^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$ and be at most ${MAX_EVENT_TYPE_LENGTH} characters`,
    );
  }
  let stream: string | null = null;
  const rawStream: unknown = input.stream;
  if (rawStream !== undefined && rawStream !== null) {
    if (rawStream !== memo.stream && !isStreamName(rawStream)) {
      throw invalid(index, 'stream', `must be 1–${MAX_STREAM_LENGTH} characters without control characters`);
    }
    stream = rawStream as string;
    memo.stream = stream;
  }
  memo.type = type;
  let id: string;
  const rawId: unknown = input.id;
  if (rawId === undefined || rawId === null) id = ctx.newId();
  else if (isEventId(rawId)) {
    id = rawId;
    memo.givenIds = true;
  } else throw invalid(index, 'id', 'must be 1–128 characters of [A-Za-z0-9._:-]');

  const ownCorrelationId = optionalId(input, 'correlationId', index);
  const correlationId = ownCorrelationId ?? ctx.correlationId ?? null;
  const ownCausationId = optionalId(input, 'causationId', index);
  const causationId = ownCausationId ?? ctx.causationId ?? null;
  const parentId = optionalId(input, 'parentId', index) ?? null;

  const rawData: unknown = input.data;
  let data = (rawData === undefined ? {} : rawData) as JsonValue;
  const rawMetadata: unknown = input.metadata;
  let metadata: JsonObject;
  let metadataJson: string | undefined;
  if (rawMetadata === undefined || rawMetadata === null) {
    metadata = {};
    metadataJson = '{}';
  } else if (typeof rawMetadata !== 'object' || Array.isArray(rawMetadata)) {
    throw invalid(index, 'metadata', 'must be a JSON object');
  } else {
    metadata = rawMetadata as JsonObject;
  }

  let dataJson = canonicalJson(data);
  if (dataJson === undefined) {
    const text = slowStringify(data, index, 'data');
    dataJson = text.json;
    // A -0 is stored as 0: the event handed back holds what every store gives back.
    if (!text.canonical) data = JSON.parse(dataJson) as JsonValue;
  }
  if (metadataJson === undefined)
    metadataJson = isEmptyPlainObject(metadata) ? '{}' : canonicalJson(metadata);
  if (metadataJson === undefined) {
    const text = slowStringify(metadata, index, 'metadata');
    metadataJson = text.json;
    if (!text.canonical) metadata = JSON.parse(metadataJson) as JsonObject;
  }
  const chars = dataJson.length + metadataJson.length;
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when the limit could be exceeded.
  if (chars * 3 > ctx.maxEventBytes) {
    const bytes = Buffer.byteLength(dataJson, 'utf8') + Buffer.byteLength(metadataJson, 'utf8');
    if (bytes > ctx.maxEventBytes) {
      throw new FoundationError('FND_EVENTS_TOO_LARGE', {
        message: `Event ${index}: data and metadata take ${bytes} bytes, more than ${ctx.maxEventBytes}`,
        context: { index, bytes, limit: ctx.maxEventBytes },
      });
    }
  }
  return {
    id,
    type,
    stream,
    time: ctx.now,
    monotonic: ctx.monotonic,
    correlationId,
    causationId,
    parentId,
    data,
    metadata,
    dataJson,
    metadataJson,
    node: ctx.node,
    correlationIdFromContext: ownCorrelationId === undefined && correlationId !== null,
    causationIdFromContext: ownCausationId === undefined && causationId !== null,
  };
}

/**
 * Validates and completes a batch of inputs (see the module doc for the rules). `data` and `metadata` of a
 * prepared event are the caller's values (not copied); adapters that keep objects should keep the parsed
 * `dataJson` / `metadataJson` instead. Throws on the first bad event; every error's context has `index`.
 */
export function prepareEvents(inputs: readonly EventInput[], ctx: PrepareContext): PreparedEvent[] {
  const out: PreparedEvent[] = new Array<PreparedEvent>(inputs.length);
  const memo: BatchMemo = { type: undefined, stream: undefined, givenIds: false };
  for (let i = 0; i < inputs.length; i++) {
    try {
      out[i] = prepareOne(inputs[i], i, ctx, memo);
    } catch (error) {
      if (error instanceof FoundationError) throw error;
      // A throwing getter or proxy trap on the input itself.
      throw new FoundationError('FND_EVENTS_INVALID_EVENT', {
        message: `Event ${i}: reading the event threw`,
        context: { index: i, field: 'event', reason: 'reading the event threw' },
        cause: error,
      });
    }
  }
  // Generated ids are unique (one generator, strictly increasing): only a batch with given ids is checked.
  if (out.length > 1 && memo.givenIds) {
    const seen = new Set<string>();
    for (let i = 0; i < out.length; i++) {
      const id = (out[i] as PreparedEvent).id;
      if (seen.has(id)) throw invalid(i, 'id', `duplicates the id of an earlier event in the batch (${id})`);
      seen.add(id);
    }
  }
  return out;
}
