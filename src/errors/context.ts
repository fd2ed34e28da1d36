/**
 * Correlation context on AsyncLocalStorage: a correlation id, causation id, operation name, bounded
 * breadcrumbs and metadata that flow through `await`, timers and promise combinators. Events, log lines,
 * metrics, jobs and errors created inside a context are stamped with it.
 *
 * The AsyncLocalStorage instance is process-wide on purpose (like OpenTelemetry's context): a request that
 * crosses two foundations keeps one correlation id. It holds no data of its own; each async chain holds its
 * own immutable context object.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** One step recorded in a context: what ran, when (wall ms), with optional small metadata. */
export interface Breadcrumb {
  readonly operation: string;
  readonly at: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * The context carried by an async chain. Its fields are fixed; only its breadcrumb trail grows
 * ({@link addBreadcrumb}). A child starts with a copy of its parent's trail, so siblings never see each
 * other's breadcrumbs.
 */
export interface FoundationContext {
  /** Shared by every operation caused, directly or not, by the same origin (e.g. one HTTP request). */
  readonly correlationId: string;
  /** The id of the operation (event, request, job) that caused this one, if any. */
  readonly causationId: string | undefined;
  /** Unique id of this context's operation. */
  readonly operationId: string;
  /** Name of the operation, e.g. `http GET /api/status`. */
  readonly operation: string | undefined;
  /** Most recent steps, oldest first, at most {@link MAX_BREADCRUMBS}. */
  readonly breadcrumbs: readonly Breadcrumb[];
  /** @internal mutable trail behind `breadcrumbs`. */
  readonly [TRAIL]: Breadcrumb[];
  /** Free-form metadata; children inherit and may add keys. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Wall-clock ms when the context was created. */
  readonly startedAt: number;
}

/** Options to create or derive a context. */
export interface ContextOptions {
  correlationId?: string;
  causationId?: string;
  operation?: string;
  metadata?: Record<string, unknown>;
}

/** Breadcrumbs kept per context; older ones are dropped. */
export const MAX_BREADCRUMBS = 32;

/** Longest breadcrumb operation name kept, in UTF-16 units; longer names are cut. */
export const MAX_BREADCRUMB_OPERATION_LENGTH = 200;

const TRAIL: unique symbol = Symbol('foundation.context.trail');

const storage = new AsyncLocalStorage<FoundationContext | undefined>();

/** Creates a new id suitable for correlation and operation ids (UUID v4). */
export function newCorrelationId(): string {
  return randomUUID();
}

function push(trail: Breadcrumb[], crumb: Breadcrumb): void {
  const bounded =
    crumb.operation.length > MAX_BREADCRUMB_OPERATION_LENGTH
      ? { ...crumb, operation: crumb.operation.slice(0, MAX_BREADCRUMB_OPERATION_LENGTH) }
      : crumb;
  while (trail.length >= MAX_BREADCRUMBS) trail.shift();
  trail.push(bounded);
}

/**
 * Builds a context. With a `parent`, the child inherits its correlation id, metadata (merged) and
 * breadcrumbs, and its causation id defaults to the parent's operation id.
 */
export function createContext(options: ContextOptions = {}, parent?: FoundationContext): FoundationContext {
  const now = Date.now();
  const operationId = randomUUID();
  const trail: Breadcrumb[] = parent === undefined ? [] : parent[TRAIL].slice();
  if (options.operation !== undefined) push(trail, { operation: options.operation, at: now });
  return Object.freeze({
    correlationId: options.correlationId ?? parent?.correlationId ?? randomUUID(),
    causationId: options.causationId ?? parent?.operationId,
    operationId,
    operation: options.operation ?? parent?.operation,
    get breadcrumbs(): readonly Breadcrumb[] {
      return trail.slice();
    },
    [TRAIL]: trail,
    metadata: Object.freeze({ ...parent?.metadata, ...options.metadata }),
    startedAt: now,
  });
}

/** The context of the current async chain, or `undefined` outside any context. */
export function currentContext(): FoundationContext | undefined {
  return storage.getStore();
}

/** The current correlation id, or `undefined` outside any context. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/**
 * Runs `fn` inside a context derived from the current one (a child) or a new root when there is none.
 * Returns what `fn` returns (a promise stays a promise); the context is visible across every `await`,
 * timer and promise combinator started inside `fn`, and nowhere else.
 */
export function withContext<T>(options: ContextOptions, fn: () => T): T {
  return storage.run(createContext(options, storage.getStore()), fn);
}

/** Runs `fn` inside exactly `context` (e.g. one restored from a job or message). */
export function runInContext<T>(context: FoundationContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Records a breadcrumb in the current context (bounded to {@link MAX_BREADCRUMBS}, oldest dropped).
 * Children created afterwards inherit it; the parent of the current context does not see it.
 * No-op outside a context.
 */
export function addBreadcrumb(operation: string, metadata?: Record<string, unknown>): void {
  const ctx = storage.getStore();
  if (ctx === undefined) return;
  push(
    ctx[TRAIL],
    metadata === undefined
      ? { operation, at: Date.now() }
      : { operation, at: Date.now(), metadata: Object.freeze({ ...metadata }) },
  );
}

/**
 * Binds `fn` to the current context: whenever it is called later it runs in the context that was current
 * here (or in none, if none was). Use it for callbacks that some other code calls back from its own async
 * chain — `EventEmitter` listeners run in the context of whoever calls `emit`, not of whoever registered them;
 * pooled connections and batching libraries call back in the context of the first caller.
 *
 * @example
 * ```ts
 * emitter.on('message', bindContext((msg) => log(currentCorrelationId(), msg)));
 * ```
 */
export function bindContext<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const ctx = storage.getStore();
  return (...args: A): R => storage.run(ctx, fn, ...args);
}
