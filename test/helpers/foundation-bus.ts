/**
 * Test helper: a foundation built from any {@link FoundationOptions} (config defaults, fake clock,
 * projections, a schema) with its control bus on 127.0.0.1 and a free port — for tests that need more than
 * the name, services and store `startControlBus` (control-bus.ts) takes. Torn down with `await using` or
 * `[Symbol.asyncDispose]()`.
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import {
  createFoundation,
  SERVICES_NAMESPACE,
  type Foundation,
  type FoundationOptions,
} from '../../src/app/foundation.js';
import {
  CONTROL_BUS_SERVICE,
  controlBusService,
  type ControlBus,
  type ControlBusOptions,
} from '../../src/server/index.js';
import type { RunningControlBus } from './control-bus.js';

/** What {@link startFoundationBus} adds to the foundation's own options. */
export interface FoundationBusOptions {
  /** Options of the control bus (e.g. `token`); host and port default to 127.0.0.1 and 0 (any free port). */
  readonly bus?: ControlBusOptions;
  /** Runs on the created foundation before its control bus is added and it starts (e.g. a pool's resource). */
  readonly prepare?: (foundation: Foundation) => void;
}

/**
 * Creates a foundation from `options`, runs `prepare` on it, adds its control bus (127.0.0.1, port 0, then
 * `bus`) and starts it.
 */
export async function startFoundationBus<S extends StandardSchemaV1 | undefined = undefined>(
  options: FoundationOptions<S>,
  extra: FoundationBusOptions = {},
): Promise<RunningControlBus> {
  const foundation: Foundation = createFoundation(options);
  extra.prepare?.(foundation);
  foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0, ...extra.bus }));
  await foundation.start();
  const bus = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE);
  return {
    foundation,
    bus,
    url: bus.url,
    fetch: (path, init) => fetch(new URL(path, bus.url), init),
    async [Symbol.asyncDispose]() {
      await foundation.stop();
    },
  };
}
