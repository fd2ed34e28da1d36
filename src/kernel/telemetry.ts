/**
 * Telemetry primitives on `node:diagnostics_channel`: `emit` for point events and `span` for timed operations.
 *
 * Channel names are `foundation:<area>:<event>`. Events carry numeric measurements, free metadata and the
 * current correlation id. Both primitives check `hasSubscribers` first, so they cost a property read when
 * nobody listens. Subscribers are plain diagnostics_channel subscribers: any tool (APM agents, our own
 * metrics) can listen without importing the foundation.
 *
 * Every event (not spans) is also published on one catch-all channel, {@link CATCH_ALL_CHANNEL}
 * (`foundation:*`), when that channel has subscribers: {@link onTelemetryPrefix} listens there.
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { currentContext } from '../errors/context.js';
import { FoundationError } from '../errors/foundation-error.js';

/** Measurements of an event: numbers only (durations in ms, counts, sizes in bytes). */
export type Measurements = Readonly<Record<string, number>>;

/** Metadata of an event: small, serializable, never secret. */
export type Metadata = Readonly<Record<string, unknown>>;

/** The message published on a `foundation:<area>:<event>` channel. */
export interface TelemetryMessage {
  /** Event name without the `foundation:` prefix, e.g. `registry:registered`. */
  readonly name: string;
  /** Numbers measured, e.g. `{ count: 1 }` or `{ durationMs: 12 }`. */
  readonly measurements: Measurements;
  /** What the event is about, e.g. `{ namespace, name }`. */
  readonly metadata: Metadata;
  /** Correlation id of the context the event was emitted in. */
  readonly correlationId: string | undefined;
  /** Wall-clock ms. */
  readonly time: number;
}

/**
 * The context object of a span, published on every phase of the tracing channel
 * `tracing:foundation:<area>:<op>:{start,end,asyncStart,asyncEnd,error}`. `duration` (ms), `result` and
 * `error` are filled in before `end` / `asyncEnd` / `error` are published.
 */
export interface SpanMessage {
  /** Span name without the `foundation:` prefix, e.g. `registry:lookup`. */
  readonly name: string;
  /** What the operation is about. */
  readonly metadata: Metadata;
  /** Correlation id of the context the operation started in. */
  readonly correlationId: string | undefined;
  /** Wall-clock ms at start. */
  readonly time: number;
  /** Duration in ms, set when the operation settles. */
  duration?: number;
  /** The value returned or resolved, set on success. */
  result?: unknown;
  /** The error thrown or rejected, set on failure. */
  error?: unknown;
}

const NAME_PATTERN = /^[a-z][a-z0-9_]*(?::[a-z][a-z0-9_.]*)+$/;

/** The catch-all channel: every `emit` / `telemetryEvent.emit` is published here too when it has subscribers. */
export const CATCH_ALL_CHANNEL = 'foundation:*';

/** The catch-all channel object (a diagnostics_channel singleton per name, not foundation state). */
const catchAll = diagnosticsChannel.channel(CATCH_ALL_CHANNEL);

/** The event that reports a throwing handler. */
const HANDLER_FAILED = 'telemetry:handler_failed';

/** The channel name for an event name: `registry:lookup` → `foundation:registry:lookup`. */
export function channelName(name: string): string {
  return `foundation:${name}`;
}

function assertName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new FoundationError('FND_DATA_INVALID_INPUT', {
      message: `Telemetry name must look like "<area>:<event>" (lowercase), got "${name.slice(0, 100)}"`,
      context: { name: name.slice(0, 100) },
    });
  }
}

/**
 * A declared telemetry event: create once (module scope or constructor), publish on the hot path.
 *
 * @example
 * ```ts
 * const registered = telemetryEvent('registry:registered');
 * registered.emit({ count: 1 }, { namespace, name });
 * ```
 */
export interface TelemetryEvent {
  /** Event name without the `foundation:` prefix. */
  readonly name: string;
  /** The `foundation:<name>` diagnostics channel. */
  readonly channel: diagnosticsChannel.Channel;
  /** Whether anyone listens; check it before building expensive metadata. */
  readonly hasSubscribers: boolean;
  /** Publishes a message on the channel (and the catch-all channel), only when someone listens. */
  emit(measurements: Measurements, metadata?: Metadata): void;
}

const EMPTY: Metadata = Object.freeze({});

/** Declares a telemetry event `foundation:<name>`. */
export function telemetryEvent(name: string): TelemetryEvent {
  assertName(name);
  const channel = diagnosticsChannel.channel(channelName(name));
  return {
    name,
    channel,
    get hasSubscribers() {
      return channel.hasSubscribers;
    },
    emit(measurements: Measurements, metadata: Metadata = EMPTY): void {
      if (channel.hasSubscribers || catchAll.hasSubscribers) publish(channel, name, measurements, metadata);
    },
  };
}

/** Emits a one-off event. For hot paths prefer a declared {@link telemetryEvent}. */
export function emit(name: string, measurements: Measurements, metadata: Metadata = EMPTY): void {
  const channel = diagnosticsChannel.channel(channelName(name));
  if (!channel.hasSubscribers && !catchAll.hasSubscribers) return;
  assertName(name);
  publish(channel, name, measurements, metadata);
}

/**
 * Builds the message once (stamped with the current correlation id and the wall time) and publishes it on
 * the event's channel and on the catch-all channel, each when it has subscribers.
 */
function publish(
  channel: diagnosticsChannel.Channel,
  name: string,
  measurements: Measurements,
  metadata: Metadata,
): void {
  const message: TelemetryMessage = {
    name,
    measurements,
    metadata,
    correlationId: currentContext()?.correlationId,
    time: Date.now(),
  };
  if (channel.hasSubscribers) channel.publish(message);
  if (catchAll.hasSubscribers) catchAll.publish(message);
}

/** A declared span: a TracingChannel `foundation:<name>` with a `run` that times and rethrows. */
export interface TelemetrySpan {
  /** Span name without the `foundation:` prefix. */
  readonly name: string;
  /** The tracing channel `foundation:<name>`. */
  readonly channel: diagnosticsChannel.TracingChannel<SpanMessage>;
  /** Runs `fn`, publishing start / end (+ asyncStart / asyncEnd for promises) / error. Rethrows. */
  run<T>(metadata: Metadata, fn: () => T): T;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Declares a span `foundation:<name>`. */
export function telemetrySpan(name: string): TelemetrySpan {
  assertName(name);
  const tc = diagnosticsChannel.tracingChannel<SpanMessage>(channelName(name));
  return {
    name,
    channel: tc,
    run<T>(metadata: Metadata, fn: () => T): T {
      if (!tc.hasSubscribers) return fn();
      return traced(tc, name, metadata, fn);
    },
  };
}

function traced<T>(
  tc: diagnosticsChannel.TracingChannel<SpanMessage>,
  name: string,
  metadata: Metadata,
  fn: () => T,
): T {
  const message: SpanMessage = {
    name,
    metadata,
    correlationId: currentContext()?.correlationId,
    time: Date.now(),
  };
  const started = performance.now();
  tc.start.publish(message);
  let value: T;
  try {
    value = fn();
  } catch (error) {
    message.duration = performance.now() - started;
    message.error = error;
    tc.error.publish(message);
    tc.end.publish(message);
    throw error;
  }
  if (!isPromiseLike(value)) {
    message.duration = performance.now() - started;
    message.result = value;
    tc.end.publish(message);
    return value;
  }
  tc.end.publish(message);
  return Promise.resolve(value).then(
    (result) => {
      message.duration = performance.now() - started;
      message.result = result;
      tc.asyncStart.publish(message);
      tc.asyncEnd.publish(message);
      return result;
    },
    (error: unknown) => {
      message.duration = performance.now() - started;
      message.error = error;
      tc.error.publish(message);
      tc.asyncStart.publish(message);
      tc.asyncEnd.publish(message);
      throw error;
    },
  ) as T;
}

/** Runs `fn` as a one-off span `foundation:<name>`. For hot paths prefer a declared {@link telemetrySpan}. */
export function span<T>(name: string, metadata: Metadata, fn: () => T): T {
  const tc = diagnosticsChannel.tracingChannel<SpanMessage>(channelName(name));
  if (!tc.hasSubscribers) return fn();
  assertName(name);
  return traced(tc, name, metadata, fn);
}

/**
 * Subscribes `handler` to `foundation:<name>` and returns a function that unsubscribes. A throwing handler
 * is isolated: the error is reported on `foundation:telemetry:handler_failed` and the emitter is unaffected.
 */
export function onTelemetry(name: string, handler: (message: TelemetryMessage) => void): () => void {
  const channelId = channelName(name);
  const listener = (message: unknown): void => {
    try {
      handler(message as TelemetryMessage);
    } catch (error) {
      if (name !== HANDLER_FAILED) {
        emit(HANDLER_FAILED, { count: 1 }, { event: name, error });
      }
    }
  };
  diagnosticsChannel.subscribe(channelId, listener);
  return () => {
    diagnosticsChannel.unsubscribe(channelId, listener);
  };
}

/**
 * Subscribes `handler` to every event whose name starts with `prefix` (e.g. `events:` for every events
 * capability event, `''` for all of them) through the catch-all channel, and returns a function that
 * unsubscribes. Spans are not delivered. A throwing handler is isolated like in {@link onTelemetry}: the
 * error is reported on `foundation:telemetry:handler_failed` (metadata `event`, `prefix`, `error`; a failure
 * while handling `telemetry:handler_failed` itself is not reported again), the handler stays subscribed and
 * the emitter is unaffected.
 */
export function onTelemetryPrefix(prefix: string, handler: (message: TelemetryMessage) => void): () => void {
  const listener = (raw: unknown): void => {
    const message = raw as TelemetryMessage;
    if (!message.name.startsWith(prefix)) return;
    try {
      handler(message);
    } catch (error) {
      if (message.name !== HANDLER_FAILED) {
        emit(HANDLER_FAILED, { count: 1 }, { event: message.name, prefix, error });
      }
    }
  };
  diagnosticsChannel.subscribe(CATCH_ALL_CHANNEL, listener);
  return () => {
    diagnosticsChannel.unsubscribe(CATCH_ALL_CHANNEL, listener);
  };
}
