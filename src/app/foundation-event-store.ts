/**
 * The event store of a foundation: the `events` options of `createFoundation()`, and the store built from
 * them and the config — the port for the chosen storage, the outage spool in front of it (PostgreSQL only),
 * and the retention settings the `retention` service runs with.
 *
 * @module
 */
import { join } from 'node:path';
import type { FoundationSettings } from '../config/foundation-settings.js';
import { FoundationError } from '../errors/index.js';
import { createEventStorePort } from '../events/create-event-store.js';
import { EventStore, type EventStoreOptions } from '../events/event-store.js';
import type { EventStorePort } from '../events/model/port.js';
import type { EventSpoolOptions } from '../events/spool/spool-options.js';
import { SpoolingEventStorePort } from '../events/spool/spooling-port.js';
import type { Clock } from '../kernel/clock.js';
import type { Storage, StoreLocation } from '../storage/index.js';
import type { FoundationRetentionOptions } from './event-services.js';

/** The event-store settings of a foundation. */
export interface FoundationEventsOptions extends Omit<EventStoreOptions, 'clock'> {
  /**
   * PostgreSQL only: appends made while the server is unreachable go to a local spool file and are replayed
   * in order when it returns (docs/event-spool.md). `true` uses `<dataDir>/events-spool.db` and the defaults.
   * On another store it is refused with `FND_CONFIG_INVALID_VALUE`.
   */
  spool?: boolean | (Omit<EventSpoolOptions, 'clock' | 'path'> & { path?: string });
  /** Retention policies run by a supervised `retention` service (docs/retention.md). */
  retention?: FoundationRetentionOptions;
  /**
   * A live subscription more than this many events behind makes the `events` service `degraded`.
   * Default 10 000.
   */
  maxHealthyLag?: number;
}

/** The event store of a foundation and the parts the composition root wires services to. */
export interface FoundationEventStore {
  /** The event store over {@link FoundationEventStore.spool} when there is one, else over `port`. */
  readonly events: EventStore;
  /** The storage's own event store port. */
  readonly port: EventStorePort;
  /** The outage spool in front of `port`, when `events.spool` asked for one. */
  readonly spool: SpoolingEventStorePort | undefined;
  /** Retention from the options, else from the config's `foundation.retention`; absent: no retention. */
  readonly retention: FoundationRetentionOptions | undefined;
}

function withoutKey<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  return Object.fromEntries(Object.entries(value).filter(([name]) => name !== key)) as Omit<T, K>;
}

/**
 * Builds the event store of a foundation. Nothing connects: the supervised `events` service starts it.
 *
 * @throws FoundationError `FND_CONFIG_INVALID_VALUE` when a spool is asked for on a store other than
 * PostgreSQL.
 */
export function createFoundationEventStore(
  options: FoundationEventsOptions | undefined,
  context: {
    readonly settings: FoundationSettings;
    readonly location: StoreLocation;
    readonly storage: Storage;
    readonly dataDir: string;
    readonly clock: Clock;
  },
): FoundationEventStore {
  const { settings, location, storage, dataDir, clock } = context;
  // maxHealthyLag is not an event-store option: it went into the config (an argument-level value).
  const { spool: spoolOption, retention: retentionOption, ...withLag } = options ?? {};
  // Retention from the options, else from the config's foundation.retention section.
  const retention =
    retentionOption ??
    (settings.retention.policies === undefined
      ? undefined
      : { policies: settings.retention.policies, intervalMs: settings.retention.intervalMs });
  const eventOptions: Omit<typeof withLag, 'maxHealthyLag'> = withoutKey(withLag, 'maxHealthyLag');
  const port = createEventStorePort(storage);
  let spool: SpoolingEventStorePort | undefined;
  if (spoolOption !== undefined && spoolOption !== false) {
    if (location.kind !== 'postgres') {
      throw new FoundationError('FND_CONFIG_INVALID_VALUE', {
        message: `The event spool protects a PostgreSQL store from outages; the store is ${location.kind}`,
        context: { option: 'events.spool', store: location.kind },
      });
    }
    const spoolOptions = spoolOption === true ? {} : spoolOption;
    spool = new SpoolingEventStorePort(
      port,
      { ...spoolOptions, path: spoolOptions.path ?? join(dataDir, 'events-spool.db') },
      clock,
    );
  }
  const events = new EventStore(spool ?? port, { ...eventOptions, clock });
  return { events, port, spool, retention };
}
