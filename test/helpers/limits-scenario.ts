/**
 * Test fixture: the rate-limit and pool scenario the protection limits tests share (control-bus routes,
 * dashboard, CLI) — three policies, `api` (its own token bucket, 2 per minute), `github` (the shared named
 * rule `api_calls`) and `db` (a pool of at most 2 whose resource is given in code).
 *
 * @module
 */
import type { Foundation } from '../../src/app/foundation.js';

/** The `foundation.protection` config section of the scenario. */
export const LIMITS_PROTECTION = {
  api: { rateLimit: { limit: 2, windowMs: 60_000 } },
  github: { rateLimit: { rule: 'api_calls' } },
  db: { pool: { max: 2 } },
};

/** Gives the `db` policy's pool its resource (an empty object); call it before the foundation starts. */
export function provideDbPool(foundation: Foundation): void {
  foundation.protect('db', { pool: { create: () => ({}), destroy: () => undefined } });
}

/** The `db` pool's status once it has lent and taken back one resource: one idle of at most 2. */
export const IDLE_POOL = {
  policy: 'db',
  size: 1,
  idle: 1,
  inUse: 0,
  waiting: 0,
  overflow: 0,
  creating: 0,
  createFailures: 0,
  destroyFailures: 0,
  min: 0,
  max: 2,
  maxOverflow: 0,
  drained: false,
};
