/**
 * The layer wiring of `protect()`'s policies: how one policy's layers are built from its config entry and its
 * code-only options (the factories, the registry's clock, timer and rate-limit store), how a new config is
 * applied to a built policy (validated first, kept layers reconfigured in place, added or removed ones giving
 * a new pipeline while calls in flight finish on theirs), how breakers' state changes reach the registry's
 * listener, and how a layer's held resources (a pool, an own limiter) are closed.
 *
 * @module
 */
import type { Clock } from '../kernel/clock.js';
import type { FoundationError } from '../errors/index.js';
import type { CoarseTimer } from './coarse-timer.js';
import { invalidPolicy } from './errors.js';
import type { ConfigurableLayer, LayerFactories } from './layer-factories.js';
import { pipeline, type ExecuteOptions, type Policy } from './pipeline.js';
import { layerOrderOf, type PolicyConfig } from './policy-config.js';
import type { PoolLayer, PoolResource } from './pool/pool-layer.js';
import type { BreakerStateChange, BreakerStateName, PolicyOverrides } from './protect-types.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import type { RateLimitLayer } from './rate-limit/rate-limit-layer.js';
import type { RateLimitStore } from './rate-limit/types.js';
import type { LayerKind, LayerStatus, ProtectedFn } from './types.js';

/** One built policy: its layers by kind, their pipeline, and the config and code options they were built from. */
export interface PolicyEntry {
  /** The policy's name. */
  readonly name: string;
  /** Its code-only options (set on first use, or later once). */
  overrides: PolicyOverrides | undefined;
  /** Its layers by kind. */
  readonly layers: Map<LayerKind, ConfigurableLayer>;
  /** The breaker state-change subscriptions, by layer. */
  readonly listeners: Map<ConfigurableLayer, () => void>;
  /** The kinds of the current pipeline, outermost first. */
  kinds: LayerKind[];
  /** The pipeline new calls run on. */
  current: Policy;
  /** The config entry last applied. */
  applied: PolicyConfig | undefined;
  /** Whether `foundation.protection` still has its entry. */
  configured: boolean;
  /** Why the last config change could not be applied. */
  lastError: FoundationError | undefined;
  /** The handle given to callers: it always runs on `current`. */
  readonly handle: Policy;
}

/** What the wiring needs of its registry (see `ProtectionRegistryOptions`). */
export interface PolicyWiringOptions {
  /** The clock of every layer. */
  readonly clock: Clock;
  /** The shared coarse timer. */
  readonly timer: CoarseTimer;
  /** The layer factories. */
  readonly factories: LayerFactories;
  /** Told of every breaker state change. */
  readonly onBreakerStateChange: ((change: BreakerStateChange) => void) | undefined;
  /** Where policies' own rate-limit rules keep state. */
  readonly rateLimitStore: RateLimitStore | undefined;
  /** The shared limiter of a named rule. */
  readonly rateLimiter: ((rule: string) => RateLimiter) | undefined;
}

/** Stands in for a pool's resource while only its sizes are validated (a pool creates nothing before use). */
const UNCHECKED_RESOURCE: PoolResource<unknown> = Object.freeze({
  create: () => undefined,
  destroy: () => undefined,
});

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

/** The options of one layer kind, given the policy's config entry and code-only options. */
function optionsOf(
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

/** Builds, reconfigures, attaches and closes the layers of one registry's policies. */
export class PolicyWiring {
  readonly #clock: Clock;
  readonly #timer: CoarseTimer;
  readonly #factories: LayerFactories;
  readonly #onBreakerStateChange: ((change: BreakerStateChange) => void) | undefined;
  readonly #rateLimitStore: RateLimitStore | undefined;
  readonly #rateLimiter: ((rule: string) => RateLimiter) | undefined;
  /** Pools of removed pool layers, still draining. */
  readonly draining = new Set<Promise<void>>();

  constructor(options: PolicyWiringOptions) {
    this.#clock = options.clock;
    this.#timer = options.timer;
    this.#factories = options.factories;
    this.#onBreakerStateChange = options.onBreakerStateChange;
    this.#rateLimitStore = options.rateLimitStore;
    this.#rateLimiter = options.rateLimiter;
  }

  /**
   * Checks that `config` builds for policy `name` (each layer accepts its options), without changing anything.
   *
   * @throws FoundationError `FND_PROTECT_INVALID_POLICY` naming the policy and the option.
   */
  check(name: string, config: PolicyConfig, given: PolicyOverrides | undefined): void {
    // A pool's resource comes from code when the policy is first used: its sizes are checked without it.
    const overrides = given?.pool === undefined ? { ...given, pool: UNCHECKED_RESOURCE } : given;
    for (const kind of layerOrderOf(config, overrides.fallback !== undefined)) {
      this.#build(name, kind, config, overrides);
    }
  }

  #build(
    name: string,
    kind: LayerKind,
    config: PolicyConfig,
    overrides: PolicyOverrides | undefined,
  ): ConfigurableLayer {
    try {
      return this.#factories[kind](optionsOf(kind, config, overrides), {
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

  /** Builds policy `name` from `config` and `overrides`. */
  create(name: string, config: PolicyConfig, overrides: PolicyOverrides | undefined): PolicyEntry {
    const entry: PolicyEntry = {
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
    this.apply(entry, config, true);
    return entry;
  }

  /**
   * Applies `config` to `entry`: every layer is validated first (a fresh layer per kind), then kept layers are
   * reconfigured and new ones taken; the pipeline is rebuilt only when the kinds or their order changed (or
   * `rebuild`). Nothing changes when a layer refuses its options.
   */
  apply(entry: PolicyEntry, config: PolicyConfig, rebuild: boolean): void {
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
        this.attach(entry, layer);
        layers.push(layer);
      } else {
        if (kind !== 'fallback') {
          (kept.configure as (options: Readonly<Record<string, unknown>>) => void)(
            optionsOf(kind, config, entry.overrides),
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
        const closing = this.closeLayer(layer);
        this.draining.add(closing);
        void closing.then(
          () => this.draining.delete(closing),
          () => this.draining.delete(closing),
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

  /** Reports the state changes of `layer` (when it is a breaker) to the registry's listener. */
  attach(entry: PolicyEntry, layer: ConfigurableLayer): void {
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

  #detach(entry: PolicyEntry, layer: ConfigurableLayer): void {
    entry.listeners.get(layer)?.();
    entry.listeners.delete(layer);
  }

  /** Ends what a layer holds outside calls: a pool's resources, an own limiter's waits. */
  async closeLayer(layer: ConfigurableLayer): Promise<void> {
    if (layer.kind === 'pool') await (layer as unknown as PoolLayer).drain();
    else if (layer.kind === 'rateLimit') {
      const limiter = layer as unknown as RateLimitLayer;
      if (!limiter.status().shared) await limiter.limiter().close();
    }
  }
}
