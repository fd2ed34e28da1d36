/**
 * The registry of every capability's migrations, in the order capabilities are migrated. The schema dumps
 * (`test/schema/*.sql`) and their drift test are built from it: a capability that adds migrations adds its
 * entry here.
 *
 * @module
 */
import { EVENTS_MIGRATIONS } from '../events/stores/migrations.js';
import { SUBSCRIPTIONS_MIGRATIONS } from '../events/subscriptions/durable/migrations.js';
import { PROJECTIONS_MIGRATIONS } from '../events/projections/migrations.js';
import { CONFIG_MIGRATIONS } from '../config/stores/migrations.js';
import { RATELIMIT_MIGRATIONS } from '../protection/rate-limit/migrations.js';
import type { Migration } from './types.js';

/** One capability's migrations. */
export interface CapabilityMigrations {
  readonly capability: string;
  readonly migrations: readonly Migration[];
}

/** Every capability that keeps tables in the store, with its migrations. */
export const ALL_MIGRATIONS: ReadonlyArray<CapabilityMigrations> = Object.freeze([
  Object.freeze({ capability: 'events', migrations: EVENTS_MIGRATIONS }),
  Object.freeze({ capability: 'subscriptions', migrations: SUBSCRIPTIONS_MIGRATIONS }),
  Object.freeze({ capability: 'projections', migrations: PROJECTIONS_MIGRATIONS }),
  Object.freeze({ capability: 'config', migrations: CONFIG_MIGRATIONS }),
  Object.freeze({ capability: 'ratelimit', migrations: RATELIMIT_MIGRATIONS }),
]);
