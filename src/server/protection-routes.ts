/**
 * The control bus's protection routes (docs/control-bus.md, docs/protection.md):
 *
 * - `GET /api/protection` → `{ policies, limiters, pools }`: every named policy (`foundation.protection.<name>`,
 *   and built ones whose entry was removed) with its layers' live state, outermost first — breaker state and
 *   counts, bulkhead and adaptive occupancy, rate-limit counts, pool counts — sorted by name; every rate
 *   limiter (named rules and policies' own rules) with its first {@link OVERVIEW_KEYS} keys; every pool.
 * - `GET /api/protection/limits[?keys=N]` → `{ limiters }` with up to N keys each (default 100, at most 1000);
 *   `GET /api/protection/pools` → `{ pools }`. (A policy named `limits` or `pools` is listed by
 *   `GET /api/protection` only.)
 * - `POST /api/protection/limits/reset` (bearer token) with `{ "rule": name, "key": k }` or
 *   `{ "policy": name, "key": k }` → forgets the key: its full allowance is back; answers
 *   `{ kind, name, key, state }`.
 * - `GET /api/protection/:name` → one policy (`{ name, configured, layers, lastError? }`).
 * - `POST /api/protection/:name/isolate` (bearer token) → holds the policy's breaker open, refusing every call,
 *   until a reset; `POST /api/protection/:name/reset` (bearer token) → closes it and forgets its failures.
 *   Both answer `{ name, action, state, policy }` with the breaker's new state and the policy's listing.
 *
 * Every refusal is problem+json with a catalog code, and changes nothing: an unexpected query parameter, a
 * body other than none or `{}` (a reset body other than the two shapes), or a malformed name 400
 * `FND_HTTP_BAD_REQUEST`; an unknown policy or limiter 404 `FND_DATA_NOT_FOUND`; a policy without a breaker 400 `FND_PROTECT_INVALID_POLICY`; a body over
 * {@link PROTECTION_BODY_LIMIT_BYTES} 413. The token is checked by the bus's guard before routing (401).
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FoundationError } from '../errors/index.js';
import {
  limiterOf,
  listLimiters,
  listPools,
  MAX_LISTED_KEYS,
  type LimiterKeyState,
  type LimiterRef,
  type LimitsSource,
} from '../protection/limits-listing.js';
import { POLICY_NAME_PATTERN } from '../protection/policy-config.js';
import type { BreakerStateName, PolicyListing, ProtectionRegistry } from '../protection/protect.js';
import { MAX_RATE_LIMIT_KEY_LENGTH } from '../protection/rate-limit/checks.js';
import type { RequestContexts } from './request-contexts.js';

/** What the protection routes use of a registry (the foundation's `protection`). */
export type ProtectionRoutesTarget = Pick<ProtectionRegistry, 'list' | 'breaker'>;

/** What {@link registerProtectionRoutes} needs. */
export interface ProtectionRouteDependencies {
  /** The registry to serve; read at each request. */
  readonly protection: () => ProtectionRoutesTarget;
  /** The rate limiters and pools to serve (the registry and the named limiters); read at each request. */
  readonly limits: () => LimitsSource;
  readonly requests: RequestContexts;
}

/** Keys listed per limiter by `GET /api/protection`. */
export const OVERVIEW_KEYS = 20;

/** The answer of `POST /api/protection/limits/reset`. */
export interface LimitResetResult extends LimiterRef {
  readonly key: string;
  /** The key's state after the reset. */
  readonly state: LimiterKeyState;
}

/** Largest body accepted by the isolate and reset routes (they take none, or `{}`), in bytes. */
export const PROTECTION_BODY_LIMIT_BYTES = 1024;

/** What an operator can do to a policy's breaker through the bus. */
export type BreakerAction = 'isolate' | 'reset';

/** The answer of `POST /api/protection/:name/isolate` and `/reset`. */
export interface BreakerActionResult {
  readonly name: string;
  readonly action: BreakerAction;
  /** The breaker's state after the action. */
  readonly state: BreakerStateName;
  /** The policy's listing after the action. */
  readonly policy: PolicyListing;
}

function badRequest(message: string, correlationId: string, context: Record<string, unknown> = {}): never {
  throw new FoundationError('FND_HTTP_BAD_REQUEST', { message, context, correlationId });
}

/** These routes take no query parameters. */
function noQuery(raw: unknown, correlationId: string): void {
  const keys = typeof raw === 'object' && raw !== null ? Object.keys(raw) : [];
  const [first] = keys;
  if (first === undefined) return;
  const shown = first.length > 60 ? `${first.slice(0, 60)}…` : first;
  badRequest(`Unknown query parameter ${JSON.stringify(shown)}; this route takes none`, correlationId, {
    parameter: first.slice(0, 60),
  });
}

/** The `:name` parameter, checked against the policy-name pattern (a malformed one is never echoed). */
function policyName(request: FastifyRequest, correlationId: string): string {
  const name = (request.params as Record<string, unknown> | undefined)?.name;
  if (typeof name !== 'string' || !POLICY_NAME_PATTERN.test(name)) {
    return badRequest(
      'Invalid policy name: expected a lower-case letter, then up to 63 of a-z 0-9 _ . -',
      correlationId,
      { parameter: 'name', length: typeof name === 'string' ? name.length : 0 },
    );
  }
  return name;
}

/** `?keys=N` (0 to {@link MAX_LISTED_KEYS}, default 100) and nothing else. */
function keysQuery(raw: unknown, correlationId: string): number {
  const query = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const { keys, ...rest } = query;
  noQuery(rest, correlationId);
  if (keys === undefined) return 100;
  if (typeof keys !== 'string' || !/^\d{1,4}$/.test(keys) || Number(keys) > MAX_LISTED_KEYS) {
    return badRequest(`keys must be an integer from 0 to ${String(MAX_LISTED_KEYS)}`, correlationId, {
      parameter: 'keys',
    });
  }
  return Number(keys);
}

/** The body of a limit reset: `{ rule, key }` or `{ policy, key }`, nothing else. */
function resetBody(body: unknown, correlationId: string): LimiterRef & { readonly key: string } {
  const shape = 'Expected a JSON object { "rule": name, "key": k } or { "policy": name, "key": k }';
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return badRequest(shape, correlationId);
  const { rule, policy, key, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) {
    return badRequest(`${shape}; unexpected field ${JSON.stringify(extra.slice(0, 60))}`, correlationId, {
      field: extra.slice(0, 60),
    });
  }
  if ((rule === undefined) === (policy === undefined)) return badRequest(shape, correlationId);
  const kind = rule === undefined ? 'policy' : 'rule';
  const name = rule ?? policy;
  if (typeof name !== 'string' || !POLICY_NAME_PATTERN.test(name)) {
    return badRequest(
      `Invalid ${kind} name: expected a lower-case letter, then up to 63 of a-z 0-9 _ . -`,
      correlationId,
      {
        field: kind,
      },
    );
  }
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_RATE_LIMIT_KEY_LENGTH ||
    key.includes('\u0000')
  ) {
    return badRequest(
      `key must be a string of 1 to ${String(MAX_RATE_LIMIT_KEY_LENGTH)} characters without NUL`,
      correlationId,
      { field: 'key' },
    );
  }
  return { kind, name, key };
}

/** The mutating routes take no body, or an empty JSON object. */
function noBody(body: unknown, correlationId: string): void {
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  badRequest('This request takes no body (or an empty JSON object)', correlationId);
}

function listingOf(target: ProtectionRoutesTarget, name: string, correlationId: string): PolicyListing {
  const listing = target.list().find((policy) => policy.name === name);
  if (listing === undefined) {
    throw new FoundationError('FND_DATA_NOT_FOUND', {
      message: `No protection policy named ${name} (see GET /api/protection)`,
      context: { policy: name },
      correlationId,
    });
  }
  return listing;
}

/** Registers the protection routes on `app`. */
export function registerProtectionRoutes(app: FastifyInstance, deps: ProtectionRouteDependencies): void {
  const { protection, limits, requests } = deps;
  const correlationOf = (request: FastifyRequest): string => requests.contextOf(request).correlationId;
  const mutating = { bodyLimit: PROTECTION_BODY_LIMIT_BYTES } as const;

  app.get('/api/protection', async (request) => {
    noQuery(request.query, correlationOf(request));
    const source = limits();
    return {
      policies: protection().list(),
      limiters: await listLimiters(source, OVERVIEW_KEYS),
      pools: listPools(source),
    };
  });

  app.get('/api/protection/limits', async (request) => {
    const keys = keysQuery(request.query, correlationOf(request));
    return { limiters: await listLimiters(limits(), keys) };
  });

  app.get('/api/protection/pools', (request) => {
    noQuery(request.query, correlationOf(request));
    return { pools: listPools(limits()) };
  });

  app.post('/api/protection/limits/reset', { bodyLimit: PROTECTION_BODY_LIMIT_BYTES }, async (request) => {
    const correlationId = correlationOf(request);
    noQuery(request.query, correlationId);
    const { kind, name, key } = resetBody(request.body, correlationId);
    let limiter;
    try {
      limiter = limiterOf(limits(), { kind, name });
    } catch (error) {
      if (error instanceof FoundationError) {
        throw new FoundationError(error.code, {
          message: error.message,
          context: error.context,
          correlationId,
        });
      }
      throw error;
    }
    await limiter.reset(key);
    const decision = await limiter.status(key);
    const result: LimitResetResult = {
      kind,
      name,
      key,
      state: {
        key,
        remaining: decision.remaining,
        retryAfterMs: decision.retryAfterMs,
        resetMs: decision.resetMs,
      },
    };
    return result;
  });

  app.get('/api/protection/:name', (request) => {
    const correlationId = correlationOf(request);
    noQuery(request.query, correlationId);
    return listingOf(protection(), policyName(request, correlationId), correlationId);
  });

  const act = (action: BreakerAction) => (request: FastifyRequest) => {
    const correlationId = correlationOf(request);
    noQuery(request.query, correlationId);
    const name = policyName(request, correlationId);
    noBody(request.body, correlationId);
    const target = protection();
    const before = listingOf(target, name, correlationId);
    if (!before.layers.some((layer) => layer.kind === 'breaker')) {
      throw new FoundationError('FND_PROTECT_INVALID_POLICY', {
        message: `Policy ${name} has no breaker to ${action}; its layers: ${
          before.layers.length === 0 ? 'none' : before.layers.map((layer) => layer.kind).join(', ')
        }`,
        context: { policy: name, layers: before.layers.map((layer) => layer.kind) },
        correlationId,
      });
    }
    const breaker = target.breaker(name);
    if (action === 'isolate') breaker.isolate();
    else breaker.reset();
    const result: BreakerActionResult = {
      name,
      action,
      state: breaker.state(),
      policy: listingOf(target, name, correlationId),
    };
    return result;
  };

  app.post('/api/protection/:name/isolate', mutating, act('isolate'));
  app.post('/api/protection/:name/reset', mutating, act('reset'));
}
