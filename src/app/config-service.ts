/**
 * The supervised `config` service: once `storage` runs it attaches the foundation's config to its version
 * store (adopting the latest version, or writing version 1), watches the config file and, on PostgreSQL,
 * the other nodes' versions. Its health is the config's: degraded while the file holds a refused edit or a
 * version from another node could not be applied here.
 *
 * @module
 */
import type { ConfigEventRecord, ManagedConfigView } from '../config/config.js';
import type { FoundationConfigShape, FoundationSettings } from '../config/foundation-settings.js';
import { isEventId } from '../events/model/ids.js';
import type { EventStore } from '../events/event-store.js';
import type { Service } from '../kernel/service.js';
import type { JsonValue } from '../events/model/types.js';
import { STORAGE_SERVICE } from './store-services.js';

/** Name of the config service in the supervisor and registry. */
export const CONFIG_SERVICE = 'config';

/** The `foundation` section of a foundation's config (whatever the user's part is). */
export function settingsOf(config: ManagedConfigView): FoundationSettings {
  return (config.snapshot() as FoundationConfigShape).foundation;
}

/** The `config` service for a foundation's config. */
export function configService(config: ManagedConfigView): Service<ManagedConfigView> {
  return {
    name: CONFIG_SERVICE,
    dependencies: [STORAGE_SERVICE],
    async start() {
      await config.start();
      return config;
    },
    async stop(instance) {
      await instance.stop();
    },
    health: (instance) => instance.health(),
  };
}

/**
 * Appends a config change's event to the event store (retried by the config's side-effect queue until the
 * `events` service runs). A correlation id outside the event id alphabet is kept in the data instead.
 */
export async function appendConfigEvent(events: EventStore, event: ConfigEventRecord): Promise<void> {
  const correlationId = event.correlationId;
  if (correlationId === undefined) {
    await events.append({ id: event.id, type: event.type, data: event.data as JsonValue });
    return;
  }
  const usable = isEventId(correlationId);
  await events.append({
    id: event.id,
    type: event.type,
    data: (usable ? event.data : { ...event.data, correlationId }) as JsonValue,
    ...(usable ? { correlationId } : {}),
  });
}
