/**
 * The control bus's protection routes (docs/control-bus.md, docs/protection.md):
 *
 * - `GET /api/protection` → `{ policies }`: every named policy (`foundation.protection.<name>`, and built ones
 *   whose entry was removed) with its layers' live state, outermost first — breaker state and counts,
 *   bulkhead and adaptive occupancy, … — sorted by name.
 * - `GET /api/protection/:name` → one policy (`{ name, configured, layers, lastError? }`).
 * - `POST /api/protection/:name/isolate` (bearer token) → holds the policy's breaker open, refusing every call,
 *   until a reset; `POST /api/protection/:name/reset` (bearer token) → closes it and forgets its failures.
 *   Both answer `{ name, action, state, policy }` with the breaker's new state and the policy's listing.
 *
 * Every refusal is problem+json with a catalog code, and changes nothing: an unexpected query parameter, a
 * body other than none or `{}`, or a malformed name 400 `FND_HTTP_BAD_REQUEST`; an unknown policy 404
 * `FND_DATA_NOT_FOUND`; a policy without a breaker 400 `FND_PROTECT_INVALID_POLICY`; a body over
 * {@link PROTECTION_BODY_LIMIT_BYTES} 413. The token is checked by the bus's guard before routing (401).
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FoundationError } from '../errors/index.js';
import { POLICY_NAME_PATTERN } from '../protection/policy-config.js';
import type { BreakerStateName, PolicyListing, ProtectionRegistry } from '../protection/protect.js';
import type { RequestContexts } from './request-contexts.js';

/** What the protection routes use of a registry (the foundation's `protection`). */
export type ProtectionRoutesTarget = Pick<ProtectionRegistry, 'list' | 'breaker'>;

/** What {@link registerProtectionRoutes} needs. */
export interface ProtectionRouteDependencies {
  /** The registry to serve; read at each request. */
  readonly protection: () => ProtectionRoutesTarget;
  readonly requests: RequestContexts;
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
  const { protection, requests } = deps;
  const correlationOf = (request: FastifyRequest): string => requests.contextOf(request).correlationId;
  const mutating = { bodyLimit: PROTECTION_BODY_LIMIT_BYTES } as const;

  app.get('/api/protection', (request) => {
    noQuery(request.query, correlationOf(request));
    return { policies: protection().list() };
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
