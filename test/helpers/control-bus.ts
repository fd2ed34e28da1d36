/**
 * Test helper: a real foundation with a control bus on a free port, torn down with `await using`.
 *
 * @module
 */
import type { Foundation } from '../../src/app/foundation.js';
import type { Service } from '../../src/kernel/service.js';
import type { ControlBus, ControlBusOptions } from '../../src/server/index.js';
import { startFoundationBus } from './foundation-bus.js';

/** A running foundation and its control bus. */
export interface RunningControlBus extends AsyncDisposable {
  readonly foundation: Foundation;
  readonly bus: ControlBus;
  /** Base URL of the bus, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `fetch` relative to the bus URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** Options of {@link startControlBus}. */
export interface StartControlBusOptions {
  readonly name?: string;
  readonly services?: readonly Service[];
  readonly bus?: ControlBusOptions;
  /** Store URL of the foundation. Default `memory:`. */
  readonly store?: string;
}

/**
 * Starts a foundation named `name` (default `test-node`) on the `store` (default `memory:`) supervising
 * `services` plus its control bus on 127.0.0.1 with port 0 (any free port).
 */
export async function startControlBus(options: StartControlBusOptions = {}): Promise<RunningControlBus> {
  return startFoundationBus(
    {
      name: options.name ?? 'test-node',
      store: options.store ?? 'memory:',
      services: options.services ?? [],
    },
    options.bus === undefined ? {} : { bus: options.bus },
  );
}

/** Names of the services every foundation supervises before the caller's. */
export const BUILT_IN_SERVICES: readonly string[] = ['storage', 'config', 'events', 'projections'];

/** A service that starts at once and whose health is whatever `health()` returns at check time. */
export function testService(
  name: string,
  options: {
    dependencies?: readonly string[];
    health?: () => { status: 'healthy' | 'degraded' | 'unhealthy'; message?: string };
  } = {},
): Service<{ name: string }> {
  const health = options.health;
  return {
    name,
    ...(options.dependencies === undefined ? {} : { dependencies: options.dependencies }),
    start: () => ({ name }),
    stop: () => undefined,
    ...(health === undefined ? {} : { health: () => health() }),
  };
}
