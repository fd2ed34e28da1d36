/**
 * The control bus's configuration routes:
 *
 * - `GET /api/config` → `{ version, config, mutable, status }`: the current configuration with secrets
 *   redacted, the declared mutable path patterns and the config's status.
 * - `GET /api/config/explain?path=…` → where the value at `path` comes from (each layer, secret, mutable).
 * - `GET /api/config/history?limit=&before=` → `{ version, versions }`, newest first (secrets redacted).
 * - `GET /api/config/versions/:version` → one version with its whole configuration (secrets redacted).
 * - `POST /api/config` (bearer token) — body
 *   `{ changes: [{ path, value } | { path, unset: true }], expectedVersion?, dryRun?, reason?, actor? }` →
 *   200 with the update result (a dry run that is invalid is still 200, with `valid: false` and the issues).
 * - `POST /api/config/rollback` (bearer token) — body `{ version, expectedVersion?, dryRun?, reason?, actor? }`
 *   → 200 with the update result.
 *
 * Bodies are checked strictly here (unknown members, wrong types: 400 `FND_HTTP_BAD_REQUEST`; over
 * {@link CONFIG_BODY_LIMIT_BYTES}: 413 `FND_HTTP_PAYLOAD_TOO_LARGE`); paths, values and versions are then
 * checked by the config itself, whose errors the bus serves as problem+json: `FND_CONFIG_INVALID_PATH` 400,
 * `FND_CONFIG_UPDATE_FORBIDDEN` 403, `FND_CONFIG_UNKNOWN_PATH` / `FND_CONFIG_VERSION_NOT_FOUND` 404,
 * `FND_CONFIG_VERSION_CONFLICT` / `FND_CONFIG_UPDATE_VETOED` 409, `FND_CONFIG_VALUE_TOO_LARGE` 413,
 * `FND_CONFIG_INVALID_VALUE` 400. Changes are made with the actor `control-bus` unless the body names one,
 * under the request's correlation id.
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConfigView } from '../config/config-api.js';
import type { ConfigChangeInput, ConfigUpdateOptions } from '../config/types.js';
import { badRequest, queryParams, shownKey } from './query-params.js';
import type { RequestContexts } from './request-contexts.js';

/** What the configuration routes use of a config (any `Config<T>`; the foundation's `config`). */
export type ConfigRoutesTarget = Pick<
  ConfigView,
  | 'version'
  | 'redacted'
  | 'mutablePaths'
  | 'status'
  | 'explain'
  | 'history'
  | 'getVersion'
  | 'updateBatch'
  | 'rollback'
>;

/** What {@link registerConfigRoutes} needs. */
export interface ConfigRouteDependencies {
  /** The config to serve; read at each request (so a config swapped in later is the one served). */
  readonly config: () => ConfigRoutesTarget;
  readonly requests: RequestContexts;
}

/** Largest body accepted by `POST /api/config` and `POST /api/config/rollback`, in bytes (256 KiB). */
export const CONFIG_BODY_LIMIT_BYTES = 256 * 1024;

/** The actor of changes made through the control bus when the body names none. */
export const DEFAULT_CONFIG_ACTOR = 'control-bus';

/** Most changes one `POST /api/config` may carry (the config applies its own, lower, limit too). */
const MAX_BODY_CHANGES = 1000;
/** Longest accepted path string (the config refuses anything over its own 256-character limit). */
const MAX_PATH_CHARS = 1024;
/** Longest `reason` and `actor`, as the config's change metadata allows. */
const MAX_REASON_CHARS = 500;
const MAX_ACTOR_CHARS = 200;
/** Most versions one history page returns. */
const MAX_HISTORY_LIMIT = 1000;

const UPDATE_KEYS: readonly string[] = ['changes', 'expectedVersion', 'dryRun', 'reason', 'actor'];
const ROLLBACK_KEYS: readonly string[] = ['version', 'expectedVersion', 'dryRun', 'reason', 'actor'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as an object whose members are all in `accepted`; throws 400 otherwise. */
function bodyObject(
  body: unknown,
  accepted: readonly string[],
  correlationId: string,
): Record<string, unknown> {
  if (!isRecord(body)) {
    throw badRequest(`The body must be a JSON object with members ${accepted.join(', ')}`, correlationId);
  }
  for (const key of Object.keys(body)) {
    if (!accepted.includes(key)) {
      throw badRequest(
        `Unknown body member ${shownKey(key)}; accepted: ${accepted.join(', ')}`,
        correlationId,
        {
          member: key.slice(0, 60),
        },
      );
    }
  }
  return body;
}

function positiveInteger(value: unknown, name: string, correlationId: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw badRequest(`${name} must be a positive integer`, correlationId, { member: name });
  }
  return value;
}

function optionalText(value: unknown, name: string, max: number, correlationId: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw badRequest(`${name} must be a string of at most ${max} characters`, correlationId, {
      member: name,
    });
  }
  return value;
}

/** The options shared by both mutating routes: compare-and-set, dry run, metadata, correlation id. */
function updateOptions(body: Record<string, unknown>, correlationId: string): ConfigUpdateOptions {
  const { expectedVersion, dryRun } = body;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') {
    throw badRequest('dryRun must be true or false', correlationId, { member: 'dryRun' });
  }
  const reason = optionalText(body.reason, 'reason', MAX_REASON_CHARS, correlationId);
  const actor = optionalText(body.actor, 'actor', MAX_ACTOR_CHARS, correlationId);
  return {
    ...(expectedVersion === undefined
      ? {}
      : { expectedVersion: positiveInteger(expectedVersion, 'expectedVersion', correlationId) }),
    ...(dryRun === undefined ? {} : { dryRun }),
    ...(reason === undefined ? {} : { reason }),
    actor: actor === undefined || actor.trim() === '' ? DEFAULT_CONFIG_ACTOR : actor,
    correlationId,
  };
}

/** One element of `changes`: `{ path, value }` (with an optional `unset: false`) or `{ path, unset: true }`. */
function parseChange(raw: unknown, index: number, correlationId: string): ConfigChangeInput {
  const where = `changes[${index}]`;
  if (!isRecord(raw)) {
    throw badRequest(`${where} must be an object {path, value} or {path, unset: true}`, correlationId, {
      index,
    });
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'path' && key !== 'value' && key !== 'unset') {
      throw badRequest(
        `Unknown member ${shownKey(key)} of ${where}; accepted: path, value, unset`,
        correlationId,
        {
          index,
          member: key.slice(0, 60),
        },
      );
    }
  }
  const { path, unset } = raw;
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH_CHARS) {
    throw badRequest(`${where}.path must be a non-empty string (a dotted path)`, correlationId, { index });
  }
  if (unset !== undefined && typeof unset !== 'boolean') {
    throw badRequest(`${where}.unset must be true or false`, correlationId, { index });
  }
  const hasValue = Object.hasOwn(raw, 'value');
  if (unset === true) {
    if (hasValue) {
      throw badRequest(`${where} has both a value and unset: true; give one of them`, correlationId, {
        index,
      });
    }
    return { path, unset: true };
  }
  if (!hasValue) {
    throw badRequest(`${where} needs a value (or unset: true)`, correlationId, { index });
  }
  return { path, value: raw.value };
}

/** Reads the body of `POST /api/config`. */
export function parseUpdateBody(
  body: unknown,
  correlationId: string,
): { changes: ConfigChangeInput[]; options: ConfigUpdateOptions } {
  const record = bodyObject(body, UPDATE_KEYS, correlationId);
  const { changes } = record;
  if (!Array.isArray(changes) || changes.length === 0) {
    throw badRequest(
      'changes must be a non-empty array of {path, value} or {path, unset: true}',
      correlationId,
      {
        member: 'changes',
      },
    );
  }
  if (changes.length > MAX_BODY_CHANGES) {
    throw badRequest(`changes may hold at most ${MAX_BODY_CHANGES} elements`, correlationId, {
      member: 'changes',
      count: changes.length,
    });
  }
  return {
    changes: changes.map((change: unknown, index) => parseChange(change, index, correlationId)),
    options: updateOptions(record, correlationId),
  };
}

/** Reads the body of `POST /api/config/rollback`. */
export function parseRollbackBody(
  body: unknown,
  correlationId: string,
): { version: number; options: ConfigUpdateOptions } {
  const record = bodyObject(body, ROLLBACK_KEYS, correlationId);
  if (record.version === undefined)
    throw badRequest('version is required', correlationId, { member: 'version' });
  return {
    version: positiveInteger(record.version, 'version', correlationId),
    options: updateOptions(record, correlationId),
  };
}

function integerParam(
  value: string | undefined,
  name: string,
  max: number,
  correlationId: string,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 1 || parsed > max) {
    throw badRequest(`${name} must be an integer from 1 to ${max}`, correlationId, { parameter: name });
  }
  return parsed;
}

/** Registers the configuration routes on `app`. */
export function registerConfigRoutes(app: FastifyInstance, deps: ConfigRouteDependencies): void {
  const { config, requests } = deps;
  const correlationOf = (request: FastifyRequest): string => requests.contextOf(request).correlationId;
  const mutating = { bodyLimit: CONFIG_BODY_LIMIT_BYTES } as const;

  app.get('/api/config', (request) => {
    queryParams(request.query, [], correlationOf(request));
    const current = config();
    return {
      version: current.version,
      config: current.redacted(),
      mutable: current.mutablePaths,
      status: current.status(),
    };
  });

  app.get('/api/config/explain', (request) => {
    const correlationId = correlationOf(request);
    const path = queryParams(request.query, ['path'], correlationId).get('path');
    if (path === undefined || path === '') {
      throw badRequest('The path parameter is required, e.g. ?path=limits.rps', correlationId, {
        parameter: 'path',
      });
    }
    if (path.length > MAX_PATH_CHARS) {
      throw badRequest(`path must be at most ${MAX_PATH_CHARS} characters`, correlationId, {
        parameter: 'path',
      });
    }
    return config().explain(path);
  });

  app.get('/api/config/history', async (request) => {
    const correlationId = correlationOf(request);
    const params = queryParams(request.query, ['limit', 'before'], correlationId);
    const limit = integerParam(params.get('limit'), 'limit', MAX_HISTORY_LIMIT, correlationId);
    const before = integerParam(params.get('before'), 'before', Number.MAX_SAFE_INTEGER, correlationId);
    const current = config();
    const versions = await current.history({
      ...(limit === undefined ? {} : { limit }),
      ...(before === undefined ? {} : { before }),
    });
    return { version: current.version, versions };
  });

  app.get('/api/config/versions/:version', (request) => {
    const correlationId = correlationOf(request);
    queryParams(request.query, [], correlationId);
    const raw = (request.params as Record<string, unknown> | undefined)?.version;
    const version = integerParam(
      typeof raw === 'string' ? raw : '',
      'version',
      Number.MAX_SAFE_INTEGER,
      correlationId,
    );
    if (version === undefined) throw badRequest('version must be a positive integer', correlationId);
    return config().getVersion(version);
  });

  app.post('/api/config', mutating, (request) => {
    const correlationId = correlationOf(request);
    queryParams(request.query, [], correlationId);
    const { changes, options } = parseUpdateBody(request.body, correlationId);
    return config().updateBatch(changes, options);
  });

  app.post('/api/config/rollback', mutating, (request) => {
    const correlationId = correlationOf(request);
    queryParams(request.query, [], correlationId);
    const { version, options } = parseRollbackBody(request.body, correlationId);
    return config().rollback(version, options);
  });
}
