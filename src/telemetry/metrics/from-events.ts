/**
 * Event-fed metrics: a metric declared with `event` observes every message published on that telemetry
 * event (`foundation:<event>`), as telemetry_metrics does.
 *
 * - The value: the message's `measurement` when the definition names one; a counter without one adds 1.
 *   A message without that measurement (or with a non-number) is dropped and counted in
 *   `foundation.telemetry.dropped`.
 * - Tags: each tag is read from the message's metadata, then from its measurements, by tag name (missing
 *   tags are `''`).
 * - Exemplars (when the metric has them on): the message's correlation id.
 *
 * Handlers run through `onTelemetry`, so a failing observation is isolated and reported on
 * `telemetry:handler_failed` like any handler's.
 *
 * @module
 */
import { onTelemetry, type TelemetryMessage } from '../../kernel/telemetry.js';
import type { MetricState } from './metric-state.js';
import type { TagInput } from './tags.js';

/** What {@link attachEventFeeds} needs from a registry. */
export interface EventFeedSource {
  /** The metrics defined now. */
  states(): readonly MetricState[];
  /** Calls `listener` for every metric defined from now on; returns a function that stops. */
  onDefine(listener: (state: MetricState) => void): () => void;
}

/** The tags of a message: metadata first, then measurements, by tag name. */
function tagsOf(message: TelemetryMessage, names: readonly string[]): TagInput {
  const tags: Record<string, unknown> = {};
  for (const name of names) {
    const fromMetadata = Object.hasOwn(message.metadata, name) ? message.metadata[name] : undefined;
    tags[name] =
      fromMetadata ?? (Object.hasOwn(message.measurements, name) ? message.measurements[name] : undefined);
  }
  return tags;
}

/** The handler that feeds `state` from its event's messages. */
function feeder(state: MetricState): (message: TelemetryMessage) => void {
  const { measurement, kind } = state.definition;
  const names = state.definition.tags ?? [];
  return (message) => {
    const value =
      measurement === undefined ? (kind === 'counter' ? 1 : Number.NaN) : message.measurements[measurement];
    state.record(
      typeof value === 'number' ? value : Number.NaN,
      names.length === 0 ? undefined : tagsOf(message, names),
      message.correlationId,
    );
  };
}

/**
 * Subscribes every metric with an `event` (now and defined later) to its event. Returns a function that
 * unsubscribes them all.
 */
export function attachEventFeeds(source: EventFeedSource): () => void {
  const detachers: Array<() => void> = [];
  const attach = (state: MetricState): void => {
    const event = state.definition.event;
    if (event !== undefined) detachers.push(onTelemetry(event, feeder(state)));
  };
  for (const state of source.states()) attach(state);
  const stopListening = source.onDefine(attach);
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    stopListening();
    for (const detach of detachers.splice(0)) detach();
  };
}
