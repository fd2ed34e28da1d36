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
import type { ProtectionSettings } from '../protection/policy-config.js';
import { ProtectionRegistry, type BreakerStateChange } from '../protection/protect.js';
import { settingsOf } from './config-service.js';

/** The event type of each breaker state a breaker enters. */
export const BREAKER_EVENT_TYPES = Object.freeze({
  open: 'protection.breaker_opened',
  closed: 'protection.breaker_closed',
  half_open: 'protection.breaker_half_opened',
  isolated: 'protection.breaker_isolated',
} as const);

/** Most breaker events waiting to be appended (the oldest is dropped beyond). */
const MAX_PENDING_EVENTS = 1000;

const reconfigureFailed = telemetryEvent('protection:reconfigure_failed');
const eventFailed = telemetryEvent('protection:event_failed');

/** A foundation's protection and the side effects of its breakers. */
export interface FoundationProtection {
  readonly registry: ProtectionRegistry;
  /** The breaker-event queue's counters (pending, failed after retries, dropped when full). */
  eventCounts(): SideEffectCounts;
  /** Resolves when no breaker event waits to be appended (tests, graceful stop). */
  settled(): Promise<void>;
}

/**
 * Creates the protection of a foundation and subscribes it to `foundation.protection`.
 *
 * @throws FoundationError `FND_PROTECT_INVALID_POLICY` when an entry of the section is refused by its layer.
 */
export function wireProtection(
  config: ManagedConfigView,
  events: EventStore,
  clock: Clock,
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
  const registry = new ProtectionRegistry({
    clock,
    settings: () => settingsOf(config).protection,
    ...(factories === undefined ? {} : { factories }),
    onBreakerStateChange: record,
  });
  registry.validate(settingsOf(config).protection);
  (config as unknown as ManagedConfig<FoundationConfigShape>).subscribe('foundation.protection', {
    prepare: (proposal) => {
      try {
        // The proposal is deeply read-only; validate only reads it.
        registry.validate(proposal.proposed.foundation.protection as ProtectionSettings);
        return undefined;
      } catch (error) {
        return { veto: error instanceof Error ? error.message : String(error) };
      }
    },
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
    eventCounts: () => effects.counts(),
    settled: () => effects.idle(),
  };
}
