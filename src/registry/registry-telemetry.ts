/**
 * The registry's telemetry events (`foundation:registry:*`). Declared once; each emit is a property read
 * when nobody listens. Lookups emit nothing: they are the hot path.
 *
 * @module
 */
import { telemetryEvent, type TelemetryEvent } from '../kernel/telemetry.js';

/** `foundation:registry:registered` — measurements `{count: 1}`, metadata `{namespace, name}`. */
export const registryRegistered: TelemetryEvent = telemetryEvent('registry:registered');

/** `foundation:registry:unregistered` — measurements `{count: 1, uptime}` (ms), metadata `{namespace, name}`. */
export const registryUnregistered: TelemetryEvent = telemetryEvent('registry:unregistered');

/** `foundation:registry:health_checked` — measurements `{duration}` (ms), metadata `{namespace, name, status}`. */
export const registryHealthChecked: TelemetryEvent = telemetryEvent('registry:health_checked');

/** `foundation:registry:listener_failed` — an `onChange` listener threw; metadata `{event, error}`. */
export const registryListenerFailed: TelemetryEvent = telemetryEvent('registry:listener_failed');
