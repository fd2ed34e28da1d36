/**
 * `protect()`: the registry of a foundation's named protection policies. A policy is built (once) from its
 * entry in `foundation.protection` — its layers in the documented order ({@link LAYER_ORDER}) or the entry's
 * `order` — plus the code-only options (a fallback, failure predicates). When the config changes,
 * {@link ProtectionRegistry.reconfigure} applies it: a layer whose kind stays is reconfigured in place
 * (thresholds change, a breaker keeps its state, calls in flight are not dropped); added or removed layers give
 * a new pipeline for new calls while calls in flight finish on the one they started on. This file holds the
 * registry (lookup, listing, reconfiguration, close); how a policy's layers are built and swapped lives in
 * `protect-layers.ts`.
 *
 * @module
 */
import type { FoundationError } from '../errors/index.js';
import type { PoolLayer } from './pool/pool-layer.js';
import type { Pool } from './pool/pool.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import type { RateLimitLayer } from './rate-limit/rate-limit-layer.js';
import { CoarseTimer } from './coarse-timer.js';
import { invalidPolicy } from './errors.js';
import { DEFAULT_LAYER_FACTORIES, type ConfigurableLayer } from './layer-factories.js';
import type { Policy } from './pipeline.js';
import { POLICY_NAME_PATTERN, type PolicyConfig, type ProtectionSettings } from './policy-config.js';
import { PolicyWiring, type PolicyEntry } from './protect-layers.js';
import type {
  BreakerControl,
  PolicyListing,
  PolicyOverrides,
  ProtectionRegistryOptions,
  ReconfigureResult,
} from './protect-types.js';
import type { LayerKind } from './types.js';

export type {
  BreakerControl,
  BreakerStateChange,
  BreakerStateName,
  PolicyListing,
  PolicyOverrides,
  ProtectionRegistryOptions,
  ReconfigureResult,
} from './protect-types.js';

/** Most configured names quoted in an unknown-policy error. */
const MAX_NAMES_SHOWN = 50;

function sameOverrides(a: PolicyOverrides | undefined, b: PolicyOverrides): boolean {
  return a !== undefined && a.fallback === b.fallback && a.failures === b.failures && a.pool === b.pool;
}

/**
 * The named protection policies of one foundation.
 *
 * @example
 * ```ts
 * const registry = new ProtectionRegistry({ clock, settings: () => ({ api: { breaker: { threshold: 5 } } }) });
 * const value = await registry.policy('api').execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export class ProtectionRegistry {
  readonly #settings: () => ProtectionSettings;
  readonly #timer: CoarseTimer;
  readonly #wiring: PolicyWiring;
  readonly #entries = new Map<string, PolicyEntry>();

  constructor(options: ProtectionRegistryOptions) {
    this.#settings = options.settings;
    this.#timer = options.timer ?? new CoarseTimer(options.clock);
    this.#wiring = new PolicyWiring({
      clock: options.clock,
      timer: this.#timer,
      factories: options.factories ?? DEFAULT_LAYER_FACTORIES,
      onBreakerStateChange: options.onBreakerStateChange,
      rateLimitStore: options.rateLimitStore,
      rateLimiter: options.rateLimiter,
    });
  }

  /** The shared coarse timer of this registry's policies. */
  get timer(): CoarseTimer {
    return this.#timer;
  }

  /** The names of the configured policies, sorted. */
  names(): string[] {
    return Object.keys(this.#settings()).sort();
  }

  /**
   * The policy `name`, built from its config entry on first use and cached. `overrides` (code-only options)
   * may be given on any call until some are set; a call with other overrides than those set is refused.
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when `foundation.protection` has no entry `name`
   * (the message lists the configured names), when an option is refused by its layer, or when other
   * overrides were already set.
   */
  policy<R = unknown>(name: string, overrides?: PolicyOverrides<R>): Policy<R> {
    return this.#policy(name, overrides as PolicyOverrides | undefined) as Policy<R>;
  }

  #policy(name: string, overrides: PolicyOverrides | undefined): Policy {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = this.#wiring.create(name, this.#configOf(name), overrides);
      this.#entries.set(name, entry);
      return entry.handle;
    }
    if (overrides !== undefined && !sameOverrides(entry.overrides, overrides)) {
      if (entry.overrides !== undefined) {
        throw invalidPolicy(`Policy "${name}" already has other code options (fallback, failures, pool)`, {
          policy: name,
        });
      }
      const config = entry.applied ?? this.#configOf(name);
      const previous = entry.overrides;
      entry.overrides = overrides;
      try {
        this.#wiring.apply(entry, config, true);
      } catch (error) {
        entry.overrides = previous;
        throw error;
      }
    }
    return entry.handle;
  }

  /**
   * The breaker of policy `name` (built if needed), for `isolate()` / `reset()` / `state()`.
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when there is no such policy or it has no breaker.
   */
  breaker(name: string): BreakerControl {
    this.policy(name);
    const layer = this.#entries.get(name)?.layers.get('breaker');
    if (layer === undefined) {
      throw invalidPolicy(`Policy "${name}" has no breaker`, { policy: name });
    }
    return layer as BreakerControl;
  }

  /**
   * The limiter of policy `name`'s rate-limit layer (its own, or the named rule's), for `keys()`, `reset(key)`,
   * `hold(key, ms)` — the latter is how a dependency's 429 `retry-after` feeds the limiter.
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when there is no such policy or it has no rate limit.
   */
  rateLimiter(name: string): RateLimiter {
    return (this.#layerOf(name, 'rateLimit') as unknown as RateLimitLayer).limiter();
  }

  /**
   * The pool of policy `name`'s pool layer (status, or `acquire`/`use` outside the policy).
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when there is no such policy or it has no pool.
   */
  pool<R = unknown>(name: string): Pool<R> {
    return (this.#layerOf(name, 'pool') as unknown as PoolLayer).pool() as Pool<R>;
  }

  /** The layer of `kind` of the built policy `name` (built if needed). */
  #layerOf(name: string, kind: LayerKind): ConfigurableLayer {
    this.policy(name);
    const layer = this.#entries.get(name)?.layers.get(kind);
    if (layer === undefined) {
      throw invalidPolicy(`Policy "${name}" has no ${kind} layer`, { policy: name, layer: kind });
    }
    return layer;
  }

  /**
   * Every policy — configured ones (built on the way, without overrides) and built ones whose entry was
   * removed — with its layers' live state, sorted by name.
   */
  list(): PolicyListing[] {
    const settings = this.#settings();
    for (const name of Object.keys(settings)) {
      if (!this.#entries.has(name)) {
        try {
          this.policy(name);
        } catch {
          // Listed below without layers: a layer refused the entry's options.
        }
      }
    }
    const names = new Set([...Object.keys(settings), ...this.#entries.keys()]);
    return [...names].sort().map((name) => {
      const entry = this.#entries.get(name);
      const lastError = entry?.lastError;
      return {
        name,
        configured: Object.hasOwn(settings, name),
        layers: entry === undefined ? [] : entry.current.status(),
        ...(lastError === undefined
          ? {}
          : { lastError: { code: lastError.code, message: lastError.message } }),
      };
    });
  }

  /**
   * Checks that every entry of `settings` builds (each layer accepts its options), without changing anything.
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` naming the policy and the option.
   */
  validate(settings: ProtectionSettings): void {
    for (const [name, config] of Object.entries(settings)) {
      this.#wiring.check(name, config, this.#entries.get(name)?.overrides);
    }
  }

  /**
   * Applies a new `foundation.protection` section (default: the current one) to the built policies: kept
   * layers are reconfigured in place, added or removed ones give a new pipeline for new calls. A policy whose
   * new options a layer refuses keeps its previous layers (reported in the result and in
   * {@link ProtectionRegistry.list}). A policy whose entry was removed keeps its last layers.
   */
  reconfigure(settings: ProtectionSettings = this.#settings()): ReconfigureResult {
    const reconfigured: string[] = [];
    const failed: Array<{ policy: string; error: FoundationError }> = [];
    for (const entry of this.#entries.values()) {
      const config = Object.hasOwn(settings, entry.name) ? settings[entry.name] : undefined;
      entry.configured = config !== undefined;
      if (config === undefined || config === entry.applied) continue;
      if (JSON.stringify(config) === JSON.stringify(entry.applied)) {
        entry.applied = config;
        continue;
      }
      try {
        this.#wiring.apply(entry, config, false);
        entry.lastError = undefined;
        reconfigured.push(entry.name);
      } catch (error) {
        const refused = error as FoundationError;
        entry.lastError = refused;
        failed.push({ policy: entry.name, error: refused });
      }
    }
    return { reconfigured, failed };
  }

  /**
   * Detaches the registry from its breakers' state changes and drains its pools (resolves once every pooled
   * resource is destroyed); own rate limiters end their waits.
   */
  async close(): Promise<void> {
    const closing: Array<Promise<void>> = [...this.#wiring.draining];
    for (const entry of this.#entries.values()) {
      for (const unsubscribe of entry.listeners.values()) unsubscribe();
      entry.listeners.clear();
      for (const layer of entry.layers.values()) closing.push(this.#wiring.closeLayer(layer));
    }
    await Promise.all(closing);
  }

  /**
   * Undoes {@link ProtectionRegistry.close} for a registry used again (a foundation started after a stop):
   * every built policy whose pool was drained gets a new one of the same options (resources created anew by
   * the same code), and breaker state changes are reported again. Policy handles, breaker states and
   * limiters stay as they are.
   */
  reopen(): void {
    for (const entry of this.#entries.values()) {
      for (const layer of entry.layers.values()) {
        if (layer.kind === 'pool') (layer as unknown as PoolLayer).reopen();
        if (!entry.listeners.has(layer)) this.#wiring.attach(entry, layer);
      }
    }
  }

  #configOf(name: string): PolicyConfig {
    const settings = this.#settings();
    const config = Object.hasOwn(settings, name) ? settings[name] : undefined;
    if (config !== undefined) return config;
    const configured = Object.keys(settings).sort();
    const shown = configured.slice(0, MAX_NAMES_SHOWN);
    const valid = POLICY_NAME_PATTERN.test(name);
    throw invalidPolicy(
      `No protection policy ${valid ? `"${name}"` : '(invalid name)'} in foundation.protection; configured: ${
        shown.length === 0 ? 'none' : shown.join(', ')
      }${configured.length > shown.length ? ', …' : ''}`,
      { ...(valid ? { policy: name } : {}), configured: shown },
    );
  }
}
