/**
 * The telemetry events of the config capability (docs/telemetry.md lists them with their measurements and
 * metadata). Metadata never carries values: paths, versions, codes only.
 *
 * @module
 */
import { telemetryEvent, type TelemetryEvent } from '../kernel/telemetry.js';

/** The config's telemetry events. */
export interface ConfigTelemetry {
  /** A local change applied: `{ changes }`, `{ version, kind }`. */
  readonly updated: TelemetryEvent;
  /** A change refused: `{ count }`, `{ code }`. */
  readonly refused: TelemetryEvent;
  /** A version written by another node applied here: `{ changes }`, `{ version, node }`. */
  readonly remoteApplied: TelemetryEvent;
  /** The watched file reloaded into a new version: `{ count }`, `{ file, version }`. */
  readonly reloaded: TelemetryEvent;
  /** An edit of the watched file refused: `{ count }`, `{ file, code }`. */
  readonly reloadFailed: TelemetryEvent;
  /** A subscriber threw: `{ count }`, `{ phase, prefix, code }`. */
  readonly subscriberFailed: TelemetryEvent;
  /** A side effect gave up after its retries: `{ count }`, `{ effect }`. */
  readonly sideEffectFailed: TelemetryEvent;
}

/** Declares the config's telemetry events (cheap: channels are shared by name). */
export function configTelemetry(): ConfigTelemetry {
  return {
    updated: telemetryEvent('config:updated'),
    refused: telemetryEvent('config:refused'),
    remoteApplied: telemetryEvent('config:remote_applied'),
    reloaded: telemetryEvent('config:reloaded'),
    reloadFailed: telemetryEvent('config:reload_failed'),
    subscriberFailed: telemetryEvent('config:subscriber_failed'),
    sideEffectFailed: telemetryEvent('config:side_effect_failed'),
  };
}
