/**
 * The error code catalog: every error the foundation throws or returns has one entry here.
 *
 * Numeric codes keep the original's hierarchical table: category digit × 1000 + subcategory digit × 100 + n
 * (1101 config/structure … 4401 external/auth, 9999 unknown). Each entry also has a stable string code
 * `FND_<AREA>_<REASON>`. Codes are never reused: retire an entry by marking it `deprecated`, never by deleting it.
 *
 * `docs/errors.md` lists every entry; `src/errors/catalog-doc.test.ts` fails when they disagree.
 *
 * @module
 */

/** Top-level error categories (the first digit of the numeric code). */
export const ERROR_CATEGORIES = {
  config: 1,
  system: 2,
  data: 3,
  external: 4,
  unknown: 9,
} as const;

/** A top-level error category. */
export type ErrorCategory = keyof typeof ERROR_CATEGORIES;

/** How serious an error is. `high` and `critical` should be escalated. */
export type ErrorSeverity = 'low' | 'medium' | 'high' | 'critical';

/**
 * How a caller should retry an operation that failed with this error.
 * `no_retry` means retrying cannot help; `immediate` retries at once; `fixed_delay` waits a constant
 * delay; `exponential_backoff` doubles the delay per attempt up to a cap.
 */
export type RetryStrategy = 'no_retry' | 'immediate' | 'fixed_delay' | 'exponential_backoff';

/** One entry of the catalog. */
export interface CatalogEntry {
  /** Hierarchical numeric code, unique across the catalog. */
  readonly numeric: number;
  /** Category (first digit of `numeric`). */
  readonly category: ErrorCategory;
  /** Subcategory (second digit of `numeric`), e.g. `structure`, `validation`, `discovery`. */
  readonly subcategory: string;
  /** Default severity. */
  readonly severity: ErrorSeverity;
  /** Default retry strategy. */
  readonly retry: RetryStrategy;
  /** Default human message when the thrower gives none. */
  readonly message: string;
  /** HTTP status used when this error is served as problem+json. */
  readonly httpStatus: number;
}

const entry = (
  numeric: number,
  category: ErrorCategory,
  subcategory: string,
  severity: ErrorSeverity,
  retry: RetryStrategy,
  httpStatus: number,
  message: string,
): CatalogEntry => ({ numeric, category, subcategory, severity, retry, httpStatus, message });

/**
 * The catalog. Keys are the stable string codes.
 *
 * Subcategory digits: config 1 structure, 2 validation, 3 access, 4 runtime;
 * system 1 initialization, 2 resources, 3 dependencies, 4 runtime, 5 discovery, 6 lifecycle;
 * data 1 serialization, 2 validation, 3 corruption, 4 not_found, 5 conflict;
 * external 1 network, 2 service, 3 timeout, 4 auth.
 */
export const ERROR_CATALOG = {
  // ── config (1xxx) ────────────────────────────────────────────────────────────────────────────────
  FND_CONFIG_INVALID_STRUCTURE: entry(
    1101,
    'config',
    'structure',
    'high',
    'no_retry',
    400,
    'Configuration structure is invalid',
  ),
  FND_CONFIG_MISSING_FIELD: entry(
    1102,
    'config',
    'structure',
    'high',
    'no_retry',
    400,
    'Required configuration field missing',
  ),
  FND_CONFIG_INVALID_PATH: entry(
    1103,
    'config',
    'structure',
    'medium',
    'no_retry',
    400,
    'Configuration path is malformed or forbidden',
  ),
  FND_CONFIG_FILE_INVALID: entry(
    1104,
    'config',
    'structure',
    'high',
    'no_retry',
    400,
    'Configuration file cannot be read or parsed',
  ),
  FND_CONFIG_ENV_INVALID: entry(
    1105,
    'config',
    'structure',
    'high',
    'no_retry',
    400,
    'Configuration environment variable is malformed',
  ),
  FND_CONFIG_INVALID_VALUE: entry(
    1201,
    'config',
    'validation',
    'medium',
    'no_retry',
    400,
    'Configuration value failed validation',
  ),
  FND_CONFIG_CONSTRAINT_VIOLATION: entry(
    1202,
    'config',
    'validation',
    'medium',
    'no_retry',
    400,
    'Configuration constraint violated',
  ),
  FND_CONFIG_OUT_OF_RANGE: entry(
    1203,
    'config',
    'validation',
    'low',
    'no_retry',
    400,
    'Value outside acceptable range',
  ),
  FND_PROTECT_INVALID_POLICY: entry(
    1206,
    'config',
    'validation',
    'medium',
    'no_retry',
    400,
    'Invalid protection policy',
  ),
  FND_CONFIG_VALUE_TOO_LARGE: entry(
    1205,
    'config',
    'validation',
    'medium',
    'no_retry',
    413,
    'Configuration value is too large or too deeply nested',
  ),
  FND_CONFIG_NOT_FOUND: entry(1301, 'config', 'access', 'high', 'no_retry', 404, 'Configuration not found'),
  FND_CONFIG_UPDATE_FORBIDDEN: entry(
    1401,
    'config',
    'runtime',
    'medium',
    'no_retry',
    403,
    'Configuration update not allowed',
  ),

  FND_CONFIG_UNKNOWN_PATH: entry(
    1302,
    'config',
    'access',
    'medium',
    'no_retry',
    404,
    'No such configuration path',
  ),
  FND_CONFIG_VERSION_NOT_FOUND: entry(
    1303,
    'config',
    'access',
    'medium',
    'no_retry',
    404,
    'No such configuration version',
  ),
  FND_CONFIG_VERSION_CONFLICT: entry(
    1402,
    'config',
    'runtime',
    'medium',
    'immediate',
    409,
    'Configuration changed since the expected version',
  ),
  FND_CONFIG_UPDATE_VETOED: entry(
    1403,
    'config',
    'runtime',
    'medium',
    'no_retry',
    409,
    'Configuration change vetoed by a subscriber',
  ),
  FND_CONFIG_SIDE_EFFECT_FAILED: entry(
    1404,
    'config',
    'runtime',
    'low',
    'exponential_backoff',
    500,
    'A side effect of a configuration change failed',
  ),

  // ── system (2xxx) ────────────────────────────────────────────────────────────────────────────────
  FND_SYSTEM_INITIALIZATION_FAILED: entry(
    2101,
    'system',
    'initialization',
    'critical',
    'no_retry',
    500,
    'System initialization failed',
  ),
  FND_SYSTEM_SERVICE_UNAVAILABLE: entry(
    2102,
    'system',
    'initialization',
    'high',
    'immediate',
    503,
    'Required service unavailable',
  ),
  FND_SYSTEM_RESOURCE_EXHAUSTED: entry(
    2201,
    'system',
    'resources',
    'high',
    'immediate',
    503,
    'System resources exhausted',
  ),
  FND_SERVER_LISTEN_FAILED: entry(
    2202,
    'system',
    'resources',
    'high',
    'no_retry',
    500,
    'The server could not listen on the requested address',
  ),
  FND_PROTECT_CIRCUIT_OPEN: entry(
    2203,
    'system',
    'resources',
    'medium',
    'fixed_delay',
    503,
    'Circuit breaker is open',
  ),
  FND_PROTECT_BULKHEAD_FULL: entry(
    2204,
    'system',
    'resources',
    'medium',
    'fixed_delay',
    503,
    'Bulkhead is full',
  ),
  FND_PROTECT_LIMIT_EXCEEDED: entry(
    2205,
    'system',
    'resources',
    'medium',
    'fixed_delay',
    503,
    'Concurrency limit reached',
  ),
  FND_PROTECT_BUDGET_EXHAUSTED: entry(
    2206,
    'system',
    'resources',
    'medium',
    'fixed_delay',
    503,
    'Retry budget exhausted',
  ),
  FND_PROTECT_CANCELLED: entry(2207, 'system', 'resources', 'low', 'no_retry', 499, 'Call cancelled'),
  FND_SYSTEM_DEPENDENCY_FAILED: entry(
    2301,
    'system',
    'dependencies',
    'high',
    'immediate',
    503,
    'Required dependency failed',
  ),
  FND_SYSTEM_INTERNAL: entry(2401, 'system', 'runtime', 'critical', 'no_retry', 500, 'Internal system error'),
  FND_SYSTEM_ABORTED: entry(
    2402,
    'system',
    'runtime',
    'low',
    'no_retry',
    499,
    'Operation aborted by the caller',
  ),

  FND_REGISTRY_INVALID_NAME: entry(
    2501,
    'system',
    'discovery',
    'low',
    'no_retry',
    400,
    'Invalid service name or namespace',
  ),
  FND_REGISTRY_ALREADY_REGISTERED: entry(
    2502,
    'system',
    'discovery',
    'medium',
    'no_retry',
    409,
    'A service is already registered under this name',
  ),
  FND_REGISTRY_NOT_FOUND: entry(
    2503,
    'system',
    'discovery',
    'medium',
    'fixed_delay',
    404,
    'Service not found in the registry',
  ),
  FND_REGISTRY_WAIT_TIMEOUT: entry(
    2504,
    'system',
    'discovery',
    'medium',
    'fixed_delay',
    504,
    'Timed out waiting for a service to register',
  ),
  FND_REGISTRY_HEALTH_TIMEOUT: entry(
    2505,
    'system',
    'discovery',
    'medium',
    'fixed_delay',
    504,
    'Service health check timed out',
  ),
  FND_REGISTRY_HEALTH_FAILED: entry(
    2506,
    'system',
    'discovery',
    'medium',
    'fixed_delay',
    503,
    'Service health check failed',
  ),

  FND_LIFECYCLE_INVALID_SERVICE: entry(
    2601,
    'system',
    'lifecycle',
    'high',
    'no_retry',
    400,
    'Service definition is invalid',
  ),
  FND_LIFECYCLE_DUPLICATE_SERVICE: entry(
    2602,
    'system',
    'lifecycle',
    'high',
    'no_retry',
    409,
    'A service with this name is already supervised',
  ),
  FND_LIFECYCLE_MISSING_DEPENDENCY: entry(
    2603,
    'system',
    'lifecycle',
    'high',
    'no_retry',
    500,
    'A required dependency is not defined',
  ),
  FND_LIFECYCLE_DEPENDENCY_CYCLE: entry(
    2604,
    'system',
    'lifecycle',
    'high',
    'no_retry',
    500,
    'Service dependencies form a cycle',
  ),
  FND_LIFECYCLE_START_FAILED: entry(
    2605,
    'system',
    'lifecycle',
    'critical',
    'no_retry',
    500,
    'Service failed to start',
  ),
  FND_LIFECYCLE_STOP_FAILED: entry(
    2606,
    'system',
    'lifecycle',
    'high',
    'no_retry',
    500,
    'Service failed to stop cleanly',
  ),
  FND_LIFECYCLE_STOP_TIMEOUT: entry(
    2607,
    'system',
    'lifecycle',
    'high',
    'no_retry',
    500,
    'Service did not stop within its time limit',
  ),
  FND_LIFECYCLE_RESTART_INTENSITY: entry(
    2608,
    'system',
    'lifecycle',
    'critical',
    'no_retry',
    500,
    'Restart intensity exceeded; failure escalated',
  ),
  FND_LIFECYCLE_INVALID_STATE: entry(
    2609,
    'system',
    'lifecycle',
    'medium',
    'no_retry',
    409,
    'Operation not allowed in the current lifecycle state',
  ),
  FND_LIFECYCLE_SERVICE_FAILED: entry(
    2610,
    'system',
    'lifecycle',
    'high',
    'immediate',
    500,
    'Service failed at run time',
  ),

  FND_STORAGE_INVALID_URL: entry(1204, 'config', 'validation', 'high', 'no_retry', 400, 'Invalid store URL'),
  FND_STORAGE_MIGRATION_FAILED: entry(
    2103,
    'system',
    'initialization',
    'critical',
    'no_retry',
    500,
    'A storage migration failed',
  ),
  FND_STORAGE_MIGRATION_TAMPERED: entry(
    2104,
    'system',
    'initialization',
    'critical',
    'no_retry',
    500,
    'An applied migration differs from the code',
  ),
  FND_STORAGE_UNAVAILABLE: entry(
    2302,
    'system',
    'dependencies',
    'high',
    'exponential_backoff',
    503,
    'The store is unavailable',
  ),
  FND_STORAGE_QUERY_FAILED: entry(
    2303,
    'system',
    'dependencies',
    'high',
    'no_retry',
    500,
    'A store statement failed',
  ),

  // ── data (3xxx) ──────────────────────────────────────────────────────────────────────────────────
  FND_DATA_SERIALIZATION_FAILED: entry(
    3101,
    'data',
    'serialization',
    'medium',
    'no_retry',
    500,
    'Data serialization failed',
  ),
  FND_DATA_DESERIALIZATION_FAILED: entry(
    3102,
    'data',
    'serialization',
    'medium',
    'no_retry',
    400,
    'Data deserialization failed',
  ),
  FND_DATA_TYPE_MISMATCH: entry(3201, 'data', 'validation', 'low', 'no_retry', 400, 'Data type mismatch'),
  FND_DATA_FORMAT_ERROR: entry(3202, 'data', 'validation', 'low', 'no_retry', 400, 'Data format error'),
  FND_DATA_VALIDATION_FAILED: entry(
    3203,
    'data',
    'validation',
    'medium',
    'no_retry',
    400,
    'Data validation failed',
  ),
  FND_DATA_INVALID_INPUT: entry(3204, 'data', 'validation', 'low', 'no_retry', 400, 'Invalid input provided'),
  FND_DATA_CORRUPTION: entry(
    3301,
    'data',
    'corruption',
    'critical',
    'no_retry',
    500,
    'Data corruption detected',
  ),
  FND_DATA_NOT_FOUND: entry(3401, 'data', 'not_found', 'low', 'no_retry', 404, 'Requested data not found'),

  FND_HTTP_BAD_REQUEST: entry(3205, 'data', 'validation', 'low', 'no_retry', 400, 'The request is malformed'),
  FND_HTTP_PAYLOAD_TOO_LARGE: entry(
    3206,
    'data',
    'validation',
    'low',
    'no_retry',
    413,
    'The request body is too large',
  ),
  FND_HTTP_UNSUPPORTED_MEDIA_TYPE: entry(
    3207,
    'data',
    'validation',
    'low',
    'no_retry',
    415,
    'The request content type is not supported',
  ),
  FND_HTTP_NOT_FOUND: entry(3402, 'data', 'not_found', 'low', 'no_retry', 404, 'No such route'),
  FND_HTTP_METHOD_NOT_ALLOWED: entry(
    3403,
    'data',
    'not_found',
    'low',
    'no_retry',
    405,
    'Method not allowed on this route',
  ),
  FND_CLI_INVALID_ARGUMENT: entry(
    3208,
    'data',
    'validation',
    'low',
    'no_retry',
    400,
    'Invalid command-line argument',
  ),

  FND_EVENTS_INVALID_EVENT: entry(3209, 'data', 'validation', 'low', 'no_retry', 400, 'The event is invalid'),
  FND_EVENTS_TOO_LARGE: entry(3210, 'data', 'validation', 'low', 'no_retry', 413, 'The event is too large'),
  FND_EVENTS_NOT_JSON: entry(
    3211,
    'data',
    'validation',
    'low',
    'no_retry',
    400,
    'Event data or metadata is not JSON',
  ),
  FND_EVENTS_INVALID_QUERY: entry(
    3212,
    'data',
    'validation',
    'low',
    'no_retry',
    400,
    'The event query is invalid',
  ),
  FND_EVENTS_INVALID_CURSOR: entry(
    3213,
    'data',
    'validation',
    'low',
    'no_retry',
    400,
    'The query cursor is invalid',
  ),
  FND_EVENTS_NOT_FOUND: entry(3404, 'data', 'not_found', 'low', 'no_retry', 404, 'Event not found'),
  FND_EVENTS_VERSION_CONFLICT: entry(
    3501,
    'data',
    'conflict',
    'low',
    'no_retry',
    409,
    'The stream is not at the expected version',
  ),
  FND_EVENTS_ID_CONFLICT: entry(
    3502,
    'data',
    'conflict',
    'medium',
    'no_retry',
    409,
    'An event with this id exists with other content',
  ),
  FND_EVENTS_INVALID_SUBSCRIPTION: entry(
    3214,
    'data',
    'validation',
    'low',
    'no_retry',
    400,
    'The subscription options are invalid',
  ),
  FND_TELEMETRY_INVALID_METRIC: entry(
    3216,
    'data',
    'validation',
    'medium',
    'no_retry',
    400,
    'Invalid metric definition or observation',
  ),
  FND_EVENTS_INVALID_POLICY: entry(
    3215,
    'data',
    'validation',
    'low',
    'no_retry',
    400,
    'The retention or projection definition is invalid',
  ),
  FND_EVENTS_CHECKPOINT_CONFLICT: entry(
    3503,
    'data',
    'conflict',
    'medium',
    'fixed_delay',
    409,
    'The subscription checkpoint or partition is held by another member',
  ),
  FND_EVENTS_SUBSCRIPTION_FAILED: entry(
    2403,
    'system',
    'runtime',
    'high',
    'no_retry',
    500,
    'The subscription failed',
  ),
  FND_EVENTS_PROJECTION_FAILED: entry(
    2404,
    'system',
    'runtime',
    'high',
    'no_retry',
    500,
    'The projection failed',
  ),
  FND_EVENTS_SPOOL_FULL: entry(
    2304,
    'system',
    'dependencies',
    'high',
    'exponential_backoff',
    503,
    'The store is unreachable and the local spool is full',
  ),

  // ── external (4xxx) ──────────────────────────────────────────────────────────────────────────────
  FND_EXTERNAL_NETWORK_ERROR: entry(
    4101,
    'external',
    'network',
    'medium',
    'exponential_backoff',
    502,
    'Network communication error',
  ),
  FND_EXTERNAL_SERVICE_ERROR: entry(
    4201,
    'external',
    'service',
    'medium',
    'fixed_delay',
    502,
    'External service error',
  ),
  FND_TELEMETRY_EXPORT_FAILED: entry(
    4202,
    'external',
    'service',
    'low',
    'exponential_backoff',
    502,
    'Metrics export failed',
  ),
  FND_EXTERNAL_TIMEOUT: entry(
    4301,
    'external',
    'timeout',
    'medium',
    'exponential_backoff',
    504,
    'Operation timeout',
  ),
  FND_PROTECT_TIMEOUT: entry(
    4302,
    'external',
    'timeout',
    'medium',
    'exponential_backoff',
    504,
    'Protected call timed out',
  ),
  FND_EXTERNAL_AUTHENTICATION_FAILED: entry(
    4401,
    'external',
    'auth',
    'high',
    'no_retry',
    401,
    'Authentication failed',
  ),

  // ── unknown (9999) ───────────────────────────────────────────────────────────────────────────────
  FND_UNKNOWN: entry(9999, 'unknown', 'unknown', 'medium', 'fixed_delay', 500, 'Unknown error'),
} as const satisfies Record<string, CatalogEntry>;

/** A stable string error code, e.g. `FND_REGISTRY_NOT_FOUND`. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Every string code in the catalog, in declaration order. */
export const ERROR_CODES: readonly ErrorCode[] = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** Whether `code` is a code of this catalog. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOG, code);
}
