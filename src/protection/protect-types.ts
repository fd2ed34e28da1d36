/**
 * The public types of `protect()`'s registry (`protect.ts`): breaker state changes, a policy's code-only
 * options, its listing, the outcome of a reconfiguration and the registry's settings.
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import type { FoundationError } from '../errors/index.js';
import type { BreakerLayer } from './breaker/index.js';
import type { CoarseTimer } from './coarse-timer.js';
import type { FallbackOptions } from './fallback/index.js';
import type { LayerFactories } from './layer-factories.js';
import type { PoolResource } from './pool/pool-layer.js';
import type { ProtectionSettings } from './policy-config.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import type { RateLimitStore } from './rate-limit/types.js';
import type { FailurePredicate, LayerStatus } from './types.js';

/** A breaker's state, as the registry reports it. */
export type BreakerStateName = 'closed' | 'open' | 'half_open' | 'isolated';

/** A breaker's state change, tagged with its policy. */
export interface BreakerStateChange {
  /** The name of the policy whose breaker changed state. */
  readonly policy: string;
  /** The state the breaker left. */
  readonly from: BreakerStateName;
  /** The state the breaker entered. */
  readonly to: BreakerStateName;
  /** When `to` is `open`: ms until it half-opens. */
  readonly retryAfterMs?: number;
  /** What caused it: `call`, `isolate`, `reset`, `restore`, `configure` or `poll`. */
  readonly cause?: string;
}

/** What an operator can do with a policy's breaker (`isolate()`, `reset()`, `state()`, `exportState()`…). */
export type BreakerControl = BreakerLayer;

/** The code-only options of a policy (they cannot live in config). `R`: the type of its pool's resource. */
export interface PolicyOverrides<R = unknown> {
  /** A fallback layer's options (`{ value }` or `{ fn, when? }`); absent: no fallback layer. */
  readonly fallback?: FallbackOptions;
  /** Which outcomes the breaker and retry count as failures. */
  readonly failures?: FailurePredicate;
  /** The resource of the policy's `pool` layer (needed when its entry has `pool`): create, destroy, validate. */
  readonly pool?: PoolResource<R>;
}

/** One policy in {@link ProtectionRegistry.list}. */
export interface PolicyListing {
  /** The policy's name (its key under `foundation.protection`). */
  readonly name: string;
  /** False once its config entry was removed: it keeps its last layers until the entry returns. */
  readonly configured: boolean;
  /** Each layer's live state, outermost first. */
  readonly layers: LayerStatus[];
  /** Why the last config change could not be applied to it (its previous layers stay). */
  readonly lastError?: { readonly code: string; readonly message: string };
}

/** The outcome of {@link ProtectionRegistry.reconfigure}. */
export interface ReconfigureResult {
  /** Policies whose layers changed. */
  readonly reconfigured: string[];
  /** Policies the new config could not be applied to (they keep their previous layers). */
  readonly failed: Array<{ readonly policy: string; readonly error: FoundationError }>;
}

/** Settings of a {@link ProtectionRegistry}. */
export interface ProtectionRegistryOptions {
  /** The clock of every policy's layers (breaker states, deadlines, latencies, rate limits). */
  readonly clock: Clock;
  /** Reads the current `foundation.protection` section. */
  readonly settings: () => ProtectionSettings;
  /** The layer factories (default: the foundation's layers). */
  readonly factories?: LayerFactories;
  /** The shared coarse timer (default: one for this registry, on `clock`). */
  readonly timer?: CoarseTimer;
  /** Called on every breaker state change of every policy (must not throw; must not block). */
  readonly onBreakerStateChange?: (change: BreakerStateChange) => void;
  /** Where the policies' own rate-limit rules keep state (default: a memory store per policy). */
  readonly rateLimitStore?: RateLimitStore;
  /** The shared limiter of a named rule (`rateLimit: { rule }`); without it, a named rule is refused. */
  readonly rateLimiter?: (rule: string) => RateLimiter;
}
