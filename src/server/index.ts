/**
 * The control bus: an HTTP admin API (health, status, registry, events, live status and event streams) and
 * the dashboard, served as a supervised service.
 *
 * @packageDocumentation
 * @module
 */
export {
  CONTROL_BUS_SERVICE,
  controlBusService,
  DEFAULT_CONTROL_BUS_PORT,
  type ControlBus,
  type ControlBusOptions,
} from './control-bus.js';
export { EVENT_STREAM_RETRY_MS, type EventStreamClientStatus } from './events-stream.js';
export { PROBLEM_CONTENT_TYPE, type ProblemBody } from './problem.js';
export type { StatusSnapshot } from './status-stream.js';
