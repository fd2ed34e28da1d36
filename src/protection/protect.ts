/**
 * `protect()`: the registry of a foundation's named protection policies. A policy is built (once) from its
 * entry in `foundation.protection` — its layers in the documented order ({@link LAYER_ORDER}) or the entry's
 * `order` — plus the code-only options (a fallback, failure predicates). When the config changes,
 * {@link ProtectionRegistry.reconfigure} applies it: a layer whose kind stays is reconfigured in place
 * (thresholds change, a breaker keeps its state, calls in flight are not dropped); added or removed layers give
 * a new pipeline for new calls while calls in flight finish on the one they started on.
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import type { FoundationError } from '../errors/index.js';
import type { PoolLayer, PoolResource } from './pool/pool-layer.js';
import type { Pool } from './pool/pool.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import type { RateLimitLayer } from './rate-limit/rate-limit-layer.js';
import type { RateLimitStore } from './rate-limit/types.js';
import { CoarseTimer } from './coarse-timer.js';
import { invalidPolicy } from './errors.js';
import { DEFAULT_LAYER_FACTORIES, type ConfigurableLayer, type LayerFactories } from './layer-factories.js';
import { pipeline, type ExecuteOptions, type Policy } from './pipeline.js';
import {
  layerOrderOf,
  POLICY_NAME_PATTERN,
  type PolicyConfig,
  type ProtectionSettings,
} from './policy-config.js';
import type {
  BreakerControl,
  BreakerStateChange,
  BreakerStateName,
  PolicyListing,
  PolicyOverrides,
  ProtectionRegistryOptions,
  ReconfigureResult,
} from './protect-types.js';
import type { LayerKind, LayerStatus, ProtectedFn } from './types.js';

export type {
  BreakerControl,
  BreakerStateChange,
  BreakerStateName,
  PolicyListing,
  PolicyOverrides,
  ProtectionRegistryOptions,
  ReconfigureResult,
} from './protect-types.js';

interface Entry {
  readonly name: string;
  overrides: PolicyOverrides | undefined;
  readonly layers: Map<LayerKind, ConfigurableLayer>;
  readonly listeners: Map<ConfigurableLayer, () => void>;
  kinds: LayerKind[];
  current: Policy;
  applied: PolicyConfig | undefined;
  configured: boolean;
  lastError: FoundationError | undefined;
  readonly handle: Policy;
}

/** Stands in for a pool's resource while only its sizes are validated (a pool creates nothing before use). */
const UNCHECKED_RESOURCE: PoolResource<unknown> = Object.freeze({
  create: () => undefined,
  destroy: () => undefined,
});

/** Most configured names quoted in an unknown-policy error. */
const MAX_NAMES_SHOWN = 50;

/** What a breaker layer tells its state-change listeners. */
type StateListener = (change: {
  readonly from: BreakerStateName;
  readonly to: BreakerStateName;
  /** How long this open state lasts (when `to` is `open`), ms. */
  readonly openMs?: number;
  readonly cause?: string;
}) => void;

function onStateChangeOf(layer: ConfigurableLayer): ((listener: StateListener) => () => void) | undefined {
  const candidate = (layer as unknown as { onStateChange?: unknown }).onStateChange;
  return typeof candidate === 'function'
    ? (listener) => (candidate as (l: StateListener) => () => void).call(layer, listener)
    : undefined;
}

function sameKinds(a: readonly LayerKind[], b: readonly LayerKind[]): boolean {
  return a.length === b.length && a.every((kind, i) => kind === b[i]);
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
  readonly #clock: Clock;
  readonly #settings: () => ProtectionSettings;
  readonly #factories: LayerFactories;
  readonly #timer: CoarseTimer;
  readonly #onBreakerStateChange: ((change: BreakerStateChange) => void) | undefined;
  readonly #rateLimitStore: RateLimitStore | undefined;
  readonly #rateLimiter: ((rule: string) => RateLimiter) | undefined;
  readonly #entries = new Map<string, Entry>();
  /** Pools of removed pool layers, still draining. */
  readonly #draining = new Set<Promise<void>>();

  constructor(options: ProtectionRegistryOptions) {
    this.#clock = options.clock;
    this.#settings = options.settings;
    this.#factories = options.factories ?? DEFAULT_LAYER_FACTORIES;
    this.#timer = options.timer ?? new CoarseTimer(options.clock);
    this.#onBreakerStateChange = options.onBreakerStateChange;
    this.#rateLimitStore = options.rateLimitStore;
    this.#rateLimiter = options.rateLimiter;
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
      entry = this.#create(name, this.#configOf(name), overrides);
      this.#entries.set(name, entry);
      return entry.handle;
    }
    if (overrides !== undefined && !this.#sameOverrides(entry.overrides, overrides)) {
      if (entry.overrides !== undefined) {
        throw invalidPolicy(`Policy "${name}" already has other code options (fallback, failures, pool)`, {
          policy: name,
        });
      }
      const config = entry.applied ?? this.#configOf(name);
      const previous = entry.overrides;
      entry.overrides = overrides;
      try {
        this.#apply(entry, config, true);
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
      const given = this.#entries.get(name)?.overrides;
      // A pool's resource comes from code when the policy is first used: its sizes are checked without it.
      const overrides = given?.pool === undefined ? { ...given, pool: UNCHECKED_RESOURCE } : given;
      for (const kind of layerOrderOf(config, overrides.fallback !== undefined)) {
        this.#build(name, kind, config, overrides);
      }
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
        this.#apply(entry, config, false);
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
    const closing: Array<Promise<void>> = [...this.#draining];
    for (const entry of this.#entries.values()) {
      for (const unsubscribe of entry.listeners.values()) unsubscribe();
      entry.listeners.clear();
      for (const layer of entry.layers.values()) closing.push(this.#closeLayer(layer));
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
        if (!entry.listeners.has(layer)) this.#attach(entry, layer);
      }
    }
  }

  /** Ends what a layer holds outside calls: a pool's resources, an own limiter's waits. */
  async #closeLayer(layer: ConfigurableLayer): Promise<void> {
    if (layer.kind === 'pool') await (layer as unknown as PoolLayer).drain();
    else if (layer.kind === 'rateLimit') {
      const limiter = layer as unknown as RateLimitLayer;
      if (!limiter.status().shared) await limiter.limiter().close();
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

  #sameOverrides(a: PolicyOverrides | undefined, b: PolicyOverrides): boolean {
    return a !== undefined && a.fallback === b.fallback && a.failures === b.failures && a.pool === b.pool;
  }

  #optionsOf(
    kind: LayerKind,
    config: PolicyConfig,
    overrides: PolicyOverrides | undefined,
  ): Readonly<Record<string, unknown>> {
    if (kind === 'fallback') return overrides?.fallback ?? {};
    const options = config[kind] as Readonly<Record<string, unknown>>;
    if (kind === 'pool') return { ...options, resource: overrides?.pool };
    const failures = overrides?.failures;
    return failures !== undefined && (kind === 'breaker' || kind === 'retry')
      ? { ...options, failures }
      : options;
  }

  #build(
    name: string,
    kind: LayerKind,
    config: PolicyConfig,
    overrides: PolicyOverrides | undefined,
  ): ConfigurableLayer {
    try {
      return this.#factories[kind](this.#optionsOf(kind, config, overrides), {
        policy: name,
        clock: this.#clock,
        timer: this.#timer,
        ...(this.#rateLimitStore === undefined ? {} : { rateLimitStore: this.#rateLimitStore }),
        ...(this.#rateLimiter === undefined ? {} : { rateLimiter: this.#rateLimiter }),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'FND_PROTECT_INVALID_POLICY') {
        const refused = error as FoundationError;
        throw invalidPolicy(`Policy "${name}": ${refused.message}`, { ...refused.context, policy: name });
      }
      throw error;
    }
  }

  #create(name: string, config: PolicyConfig, overrides: PolicyOverrides | undefined): Entry {
    const entry: Entry = {
      name,
      overrides,
      layers: new Map(),
      listeners: new Map(),
      kinds: [],
      current: pipeline(name, [], { clock: this.#clock, timer: this.#timer }),
      applied: undefined,
      configured: true,
      lastError: undefined,
      handle: {
        name,
        execute<T>(fn: ProtectedFn<T>, options?: AbortSignal | ExecuteOptions): Promise<T> {
          return entry.current.execute(fn, options);
        },
        status(): LayerStatus[] {
          return entry.current.status();
        },
      },
    };
    this.#apply(entry, config, true);
    return entry;
  }

  /**
   * Applies `config` to `entry`: every layer is validated first (a fresh layer per kind), then kept layers are
   * reconfigured and new ones taken; the pipeline is rebuilt only when the kinds or their order changed (or
   * `rebuild`). Nothing changes when a layer refuses its options.
   */
  #apply(entry: Entry, config: PolicyConfig, rebuild: boolean): void {
    const kinds = layerOrderOf(config, entry.overrides?.fallback !== undefined);
    const fresh = new Map<LayerKind, ConfigurableLayer>();
    for (const kind of kinds) fresh.set(kind, this.#build(entry.name, kind, config, entry.overrides));
    const layers: ConfigurableLayer[] = [];
    for (const kind of kinds) {
      const kept = entry.layers.get(kind);
      if (kept === undefined || (kind === 'fallback' && rebuild)) {
        const layer = fresh.get(kind) as ConfigurableLayer;
        if (kept !== undefined) this.#detach(entry, kept);
        entry.layers.set(kind, layer);
        this.#attach(entry, layer);
        layers.push(layer);
      } else {
        if (kind !== 'fallback') {
          (kept.configure as (options: Readonly<Record<string, unknown>>) => void)(
            this.#optionsOf(kind, config, entry.overrides),
          );
        }
        layers.push(kept);
      }
    }
    for (const [kind, layer] of [...entry.layers]) {
      if (!kinds.includes(kind)) {
        this.#detach(entry, layer);
        entry.layers.delete(kind);
        // Calls in flight finish on the old pipeline; a removed pool drains as its resources come back.
        const closing = this.#closeLayer(layer);
        this.#draining.add(closing);
        void closing.then(
          () => this.#draining.delete(closing),
          () => this.#draining.delete(closing),
        );
      }
    }
    if (rebuild || !sameKinds(kinds, entry.kinds)) {
      entry.current = pipeline(entry.name, layers, { clock: this.#clock, timer: this.#timer });
      entry.kinds = kinds;
    }
    entry.applied = config;
    entry.configured = true;
  }

  #attach(entry: Entry, layer: ConfigurableLayer): void {
    const notify = this.#onBreakerStateChange;
    if (layer.kind !== 'breaker' || notify === undefined) return;
    const subscribe = onStateChangeOf(layer);
    if (subscribe === undefined) return;
    const policy = entry.name;
    entry.listeners.set(
      layer,
      subscribe((change) => {
        notify({
          policy,
          from: change.from,
          to: change.to,
          ...(change.openMs === undefined ? {} : { retryAfterMs: change.openMs }),
          ...(change.cause === undefined ? {} : { cause: change.cause }),
        });
      }),
    );
  }

  #detach(entry: Entry, layer: ConfigurableLayer): void {
    entry.listeners.get(layer)?.();
    entry.listeners.delete(layer);
  }
}
