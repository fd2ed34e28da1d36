/**
 * A foundation's protection: the {@link ProtectionRegistry} of its named policies, read from the config's
 * `foundation.protection` section (checked by every layer at creation: a bad entry throws
 * `FND_PROTECT_INVALID_POLICY` from `createFoundation`), kept in step with it (a local change a layer refuses
 * is vetoed, so the config stays unchanged; an applied change reconfigures the policies without dropping calls
 * in flight) and whose breakers' state changes are recorded as events (`protection.breaker_opened`,
 * `…_closed`, `…_half_opened`, `…_isolated`) through a bounded, retried side-effect queue that never blocks a
 * call.
 *
 * @module
 */
import type { ManagedConfig, ManagedConfigView } from '../config/config.js';
import type { FoundationConfigShape } from '../config/foundation-settings.js';
import { SideEffectQueue, type SideEffectCounts } from '../config/side-effects.js';
import type { EventStore } from '../events/event-store.js';
import type { Clock } from '../kernel/clock.js';
import { telemetryEvent } from '../kernel/telemetry.js';
import type { LayerFactories } from '../protection/layer-factories.js';
import type { ProtectionSettings, RateLimitsSettings } from '../protection/policy-config.js';
import { ProtectionRegistry, type BreakerStateChange } from '../protection/protect.js';
import { createRateLimitStore } from '../protection/rate-limit/create-store.js';
import { NamedRateLimiters } from '../protection/rate-limit/named-limiters.js';
import { PostgresRateLimitStore } from '../protection/rate-limit/postgres-store.js';
import { RedisRateLimitStore } from '../protection/rate-limit/redis-store.js';
import type { RateLimitRule, RateLimitStore } from '../protection/rate-limit/types.js';
import type { Storage } from '../storage/index.js';
import { settingsOf } from './config-service.js';

/** The event type of each breaker state a breaker enters. */
export const BREAKER_EVENT_TYPES = Object.freeze({
  open: 'protection.breaker_opened',
  closed: 'protection.breaker_closed',
  half_open: 'protection.breaker_half_opened',
  isolated: 'protection.breaker_isolated',
} as const);

/**
 * How often the PostgreSQL rate-limit table is swept of rows whose allowance is full again (they are as good
 * as absent; without the sweep the table keeps one row per key ever limited).
 */
export const RATE_LIMIT_PURGE_INTERVAL_MS = 10 * 60_000;

/** Most breaker events waiting to be appended (the oldest is dropped beyond). */
const MAX_PENDING_EVENTS = 1000;

const reconfigureFailed = telemetryEvent('protection:reconfigure_failed');
const eventFailed = telemetryEvent('protection:event_failed');

/** A foundation's protection and the side effects of its breakers. */
export interface FoundationProtection {
  readonly registry: ProtectionRegistry;
  /** The named rate limiters (`foundation.rateLimits.rules`). */
  readonly rateLimits: NamedRateLimiters;
  /** Drains the pools, ends limiter waits, closes the shared rate-limit store. */
  close(): Promise<void>;
  /**
   * After {@link FoundationProtection.close} (a foundation started again): new pools for the pooled policies,
   * the shared rate-limit store reconnecting, breaker changes recorded again. Does nothing when not closed.
   */
  open(): void;
  /** The breaker-event queue's counters (pending, failed after retries, dropped when full). */
  eventCounts(): SideEffectCounts;
  /** Resolves when no breaker event waits to be appended (tests, graceful stop). */
  settled(): Promise<void>;
}

/**
 * The store every limiter of the foundation keeps state in: none for `memory` (each limiter its own, this
 * process only — and on a SQLite store, which is one machine), the storage's PostgreSQL store for `storage`,
 * Redis for `redis`.
 */
function rateLimitStoreOf(settings: RateLimitsSettings, storage: Storage): RateLimitStore | undefined {
  if (settings.store === 'redis' && settings.redisUrl !== undefined) {
    return createRateLimitStore({ redisUrl: settings.redisUrl, keyPrefix: settings.keyPrefix });
  }
  if (settings.store === 'storage' && storage.location.kind === 'postgres') {
    return createRateLimitStore({ storage });
  }
  return undefined;
}

/** The named rules of a `foundation.rateLimits` section (validated by its schema: each a limiter's rule). */
function rulesOf(settings: RateLimitsSettings): Readonly<Record<string, RateLimitRule>> {
  return settings.rules as Readonly<Record<string, RateLimitRule>>;
}

/**
 * Creates the protection of a foundation and subscribes it to `foundation.protection` and
 * `foundation.rateLimits.rules`.
 *
 * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when an entry of the section is refused by its layer.
 */
export function wireProtection(
  config: ManagedConfigView,
  events: EventStore,
  clock: Clock,
  storage: Storage,
  factories?: LayerFactories,
): FoundationProtection {
  const effects = new SideEffectQueue({
    clock,
    maxPending: MAX_PENDING_EVENTS,
    onFailed: () => {
      if (eventFailed.hasSubscribers) eventFailed.emit({ count: 1 }, {});
    },
  });
  const record = (change: BreakerStateChange): void => {
    const type = BREAKER_EVENT_TYPES[change.to];
    effects.push(type, () =>
      events
        .append({
          type,
          data: {
            policy: change.policy,
            from: change.from,
            to: change.to,
            ...(change.retryAfterMs === undefined ? {} : { retryAfterMs: change.retryAfterMs }),
            ...(change.cause === undefined ? {} : { cause: change.cause }),
          },
        })
        .then(() => undefined),
    );
  };
  const store = rateLimitStoreOf(settingsOf(config).rateLimits, storage);
  const sweep = (): ReturnType<typeof setInterval> | undefined => {
    if (!(store instanceof PostgresRateLimitStore)) return undefined;
    const timer = setInterval(() => {
      store.purgeExpired().catch(() => undefined);
    }, RATE_LIMIT_PURGE_INTERVAL_MS);
    timer.unref();
    return timer;
  };
  let purge = sweep();
  let closed = false;
  // While a proposal is checked, named rules are looked up in it (a batch may add a rule and its user).
  let proposedRules: Readonly<Record<string, RateLimitRule>> | undefined;
  const rateLimits = new NamedRateLimiters({
    rules: () => proposedRules ?? rulesOf(settingsOf(config).rateLimits),
    clock,
    ...(store === undefined ? {} : { store }),
  });
  const registry = new ProtectionRegistry({
    clock,
    settings: () => settingsOf(config).protection,
    ...(factories === undefined ? {} : { factories }),
    onBreakerStateChange: record,
    ...(store === undefined ? {} : { rateLimitStore: store }),
    rateLimiter: (rule) => rateLimits.get(rule),
  });
  registry.validate(settingsOf(config).protection);
  const managed = config as unknown as ManagedConfig<FoundationConfigShape>;
  const check = (proposed: {
    readonly rateLimits: unknown;
    readonly protection: unknown;
  }): { veto: string } | undefined => {
    // The proposal is deeply read-only; validation only reads it.
    proposedRules = rulesOf(proposed.rateLimits as RateLimitsSettings);
    try {
      rateLimits.validate(proposedRules);
      registry.validate(proposed.protection as ProtectionSettings);
      return undefined;
    } catch (error) {
      return { veto: error instanceof Error ? error.message : String(error) };
    } finally {
      proposedRules = undefined;
    }
  };
  managed.subscribe('foundation.rateLimits', {
    prepare: (proposal) => check(proposal.proposed.foundation),
    onChange: () => {
      rateLimits.reconfigure();
    },
  });
  managed.subscribe('foundation.protection', {
    prepare: (proposal) => check(proposal.proposed.foundation),
    onChange: () => {
      const { failed } = registry.reconfigure(settingsOf(config).protection);
      if (failed.length > 0 && reconfigureFailed.hasSubscribers) {
        for (const { policy, error } of failed) {
          reconfigureFailed.emit({ count: 1 }, { policy, code: error.code });
        }
      }
    },
  });
  return {
    registry,
    rateLimits,
    async close() {
      closed = true;
      clearInterval(purge);
      await registry.close();
      await rateLimits.close();
    },
    open() {
      if (!closed) return;
      closed = false;
      if (store instanceof RedisRateLimitStore) store.reopen();
      registry.reopen();
      purge = sweep();
    },
    eventCounts: () => effects.counts(),
    settled: () => effects.idle(),
  };
}
