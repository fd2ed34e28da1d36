/**
 * The fallback layer: when an error (or a rejection by an inner layer) comes out of the layers below, answer
 * with a value or with what a function computes from the error instead. A caller's cancellation
 * (`FND_PROTECT_CANCELLED` from the pipeline) is never replaced unless `when` says so. Options are code
 * only (not config).
 *
 * @module
 */
import type { CallState } from '../call-state.js';
import { invalidPolicy } from '../errors.js';
import type { Attempt, Layer, LayerStatus } from '../types.js';
import { FoundationError } from '../../errors/index.js';

/** Options of {@link createFallbackLayer}: a value, or a function of the error. */
export type FallbackOptions =
  | {
      /** The answer when the layers below fail. */
      readonly value: unknown;
      /** Which errors fall back (default: every error except the caller's cancellation). */
      readonly when?: (error: unknown) => boolean;
    }
  | {
      /** Computes the answer from the error and the call (may return a promise or throw). */
      readonly fn: (error: unknown, attempt: Attempt) => unknown;
      /** Which errors fall back (default: every error except the caller's cancellation). */
      readonly when?: (error: unknown) => boolean;
    };

/** The fallback layer, reconfigurable at run time. */
export interface FallbackLayer extends Layer {
  /** Always `fallback`: the layer's kind in the pipeline order. */
  readonly kind: 'fallback';
  /** New fallback for failures from now on. */
  configure(options: FallbackOptions): void;
  /** The live state: how many failed calls were answered by the fallback since the layer was created. */
  status(): LayerStatus & { readonly kind: 'fallback'; readonly fallbacks: number };
}

/** The default `when`: every error except a caller's cancellation. */
export function notCancelled(error: unknown): boolean {
  return !(error instanceof FoundationError && error.code === 'FND_PROTECT_CANCELLED');
}

function validate(options: FallbackOptions): FallbackOptions {
  if (typeof options !== 'object' || !('value' in options || 'fn' in options)) {
    throw invalidPolicy('fallback needs a value or a fn', { option: 'fallback' });
  }
  if ('fn' in options && typeof options.fn !== 'function') {
    throw invalidPolicy('fallback.fn must be a function', { option: 'fallback.fn' });
  }
  if (options.when !== undefined && typeof options.when !== 'function') {
    throw invalidPolicy('fallback.when must be a function', { option: 'fallback.when' });
  }
  return options;
}

/** Creates a fallback layer. */
export function createFallbackLayer(options: FallbackOptions): FallbackLayer {
  let current = validate(options);
  let fallbacks = 0;
  return {
    kind: 'fallback',
    configure(next: FallbackOptions): void {
      current = validate(next);
    },
    status() {
      return { kind: 'fallback', fallbacks };
    },
    run<T>(call: CallState, next: (call: CallState) => Promise<T>): Promise<T> {
      const options = current;
      return next(call).catch((error: unknown) => {
        if (!(options.when ?? notCancelled)(error)) throw error;
        fallbacks += 1;
        return ('fn' in options ? options.fn(error, call) : options.value) as T;
      });
    },
  };
}
