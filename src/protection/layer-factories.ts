/**
 * The layer factories `protect()` builds policies with: one per layer kind, each taking the layer's options
 * (a config entry, plus the code-only `failures` / fallback options) and returning a layer that can be
 * reconfigured at run time. A registry can be given other factories (tests, custom layers).
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import { invalidPolicy } from './errors.js';
import type { Layer, LayerKind } from './types.js';

/** A layer whose options can change at run time without dropping in-flight calls. */
export interface ConfigurableLayer extends Layer {
  configure(options: never): void;
}

/** What a layer may need outside calls (a breaker's `state()`, `isolate()`…): its policy and clock. */
export interface LayerContext {
  readonly policy: string;
  readonly clock: Clock;
}

/** Builds a layer of one kind from its options (throws `FND_PROTECT_INVALID_POLICY` on a bad option). */
export type LayerFactory = (
  options: Readonly<Record<string, unknown>>,
  context: LayerContext,
) => ConfigurableLayer;

/** A factory per layer kind. */
export type LayerFactories = { readonly [K in LayerKind]: LayerFactory };

function unavailable(kind: LayerKind): LayerFactory {
  return () => {
    throw invalidPolicy(`The "${kind}" layer is not available in this build`, { layer: kind });
  };
}

/** The foundation's own layers. */
export const DEFAULT_LAYER_FACTORIES: LayerFactories = Object.freeze({
  fallback: unavailable('fallback'),
  deadline: unavailable('deadline'),
  retry: unavailable('retry'),
  breaker: unavailable('breaker'),
  adaptive: unavailable('adaptive'),
  bulkhead: unavailable('bulkhead'),
  hedge: unavailable('hedge'),
  timeout: unavailable('timeout'),
});
