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
  /** What ran, e.g. `db.query` or `cache miss`. */
  readonly operation: string;
  /** Wall-clock ms when the step was recorded. */
  readonly at: number;
  /** Small extra facts about the step (kept as given; keep it JSON-safe). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * The context carried by an async chain. Its fields are read-only; only its breadcrumb trail grows
 * ({@link addBreadcrumb}). A child starts from its parent's trail as it was at the child's creation, so
 * siblings and parents never see each other's later breadcrumbs.
 */
export interface FoundationContext {
  /** Shared by every operation caused, directly or not, by the same origin (e.g. one HTTP request). */
  readonly correlationId: string;
  /** The id of the operation (event, request, job) that caused this one, if any. */
  readonly causationId: string | undefined;
  /** Unique id of this context's operation (generated on first read). */
  readonly operationId: string;
  /** Name of the operation, e.g. `http GET /api/status`. */
  readonly operation: string | undefined;
  /** Most recent steps, oldest first, at most `MAX_BREADCRUMBS` (32). A copy: mutating it changes nothing. */
  readonly breadcrumbs: readonly Breadcrumb[];
  /** Free-form metadata; children inherit and may add keys. Frozen. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Wall-clock ms when the context was created. */
  readonly startedAt: number;
}

/** Options to create or derive a context. */
export interface ContextOptions {
  /** The correlation id to use. Default: the parent's, or a new UUID at the root. */
  correlationId?: string;
  /** The id of the operation that caused this one. Default: the parent's operation id. */
  causationId?: string;
  /** Name of the operation, e.g. `http GET /api/status`. */
  operation?: string;
  /** Metadata merged over the parent's. */
  metadata?: Record<string, unknown>;
}

/** Breadcrumbs kept per context; older ones are dropped. */
export const MAX_BREADCRUMBS = 32;

/** Longest breadcrumb operation name kept, in UTF-16 units; longer names are cut. */
export const MAX_BREADCRUMB_OPERATION_LENGTH = 200;

const EMPTY_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

const storage = new AsyncLocalStorage<FoundationContext | undefined>();

/** Creates a new id suitable for correlation and operation ids (UUID v4). */
export function newCorrelationId(): string {
  return randomUUID();
}

/** A breadcrumb trail as a shared, persistent list: children point into their parent's trail (O(1) fork). */
interface TrailNode {
  readonly crumb: Breadcrumb;
  readonly prev: TrailNode | undefined;
}

function bound(crumb: Breadcrumb): Breadcrumb {
  return crumb.operation.length > MAX_BREADCRUMB_OPERATION_LENGTH
    ? { ...crumb, operation: crumb.operation.slice(0, MAX_BREADCRUMB_OPERATION_LENGTH) }
    : crumb;
}

/**
 * The context implementation. A class with private fields and getters: creating one is a handful of stores
 * (no freezing; ids are generated on first read), and no field can be reassigned from outside.
 */
class Context implements FoundationContext {
  #correlationId: string | undefined;
  readonly #causationId: string | undefined;
  readonly #parent: Context | undefined;
  readonly #operation: string | undefined;
  readonly #metadata: Readonly<Record<string, unknown>>;
  readonly #startedAt: number;
  #operationId: string | undefined;
  #trail: TrailNode | undefined;
  /** Nodes reachable from #trail, counting past MAX_BREADCRUMBS until the next compaction. */
  #trailLength: number;

  constructor(options: ContextOptions, parent: Context | undefined) {
    const now = Date.now();
    this.#startedAt = now;
    this.#parent = parent;
    this.#causationId = options.causationId;
    if (parent === undefined) {
      this.#correlationId = options.correlationId;
      this.#operation = options.operation;
      this.#metadata =
        options.metadata === undefined ? EMPTY_METADATA : Object.freeze({ ...options.metadata });
      this.#trail = undefined;
      this.#trailLength = 0;
    } else {
      this.#correlationId = options.correlationId ?? parent.correlationId;
      this.#operation = options.operation ?? parent.#operation;
      this.#metadata =
        options.metadata === undefined
          ? parent.#metadata
          : Object.freeze({ ...parent.#metadata, ...options.metadata });
      this.#trail = parent.#trail;
      this.#trailLength = parent.#trailLength;
    }
    if (options.operation !== undefined) this.push({ operation: options.operation, at: now });
  }

  get correlationId(): string {
    return (this.#correlationId ??= randomUUID());
  }
  get causationId(): string | undefined {
    return this.#causationId ?? this.#parent?.operationId;
  }
  get operationId(): string {
    return (this.#operationId ??= randomUUID());
  }
  get operation(): string | undefined {
    return this.#operation;
  }
  get metadata(): Readonly<Record<string, unknown>> {
    return this.#metadata;
  }
  get startedAt(): number {
    return this.#startedAt;
  }
  get breadcrumbs(): readonly Breadcrumb[] {
    const out: Breadcrumb[] = [];
    for (let node = this.#trail; node !== undefined && out.length < MAX_BREADCRUMBS; node = node.prev) {
      out.push(node.crumb);
    }
    return out.reverse();
  }

  /** Appends a crumb; compacts the trail when it holds twice the bound, so memory stays bounded. */
  push(crumb: Breadcrumb): void {
    this.#trail = { crumb: bound(crumb), prev: this.#trail };
    this.#trailLength += 1;
    if (this.#trailLength >= 2 * MAX_BREADCRUMBS) {
      let rebuilt: TrailNode | undefined;
      for (const kept of this.breadcrumbs) rebuilt = { crumb: kept, prev: rebuilt };
      this.#trail = rebuilt;
      this.#trailLength = MAX_BREADCRUMBS;
    }
  }

  /** @internal used when importing a foreign context. */
  adoptOperationId(id: string): void {
    this.#operationId = id;
  }

  toJSON(): Record<string, unknown> {
    return {
      correlationId: this.correlationId,
      causationId: this.causationId,
      operationId: this.operationId,
      operation: this.operation,
      breadcrumbs: this.breadcrumbs,
      metadata: this.metadata,
      startedAt: this.startedAt,
    };
  }
}

/**
 * Builds a context. With a `parent`, the child inherits its correlation id, metadata (merged) and
 * breadcrumbs, and its causation id defaults to the parent's operation id.
 */
export function createContext(options: ContextOptions = {}, parent?: FoundationContext): FoundationContext {
  return new Context(options, toContext(parent));
}

/** A parent from another copy of the package (or a hand-made object) is re-created as a local context. */
function toContext(parent: FoundationContext | undefined): Context | undefined {
  if (parent === undefined || parent instanceof Context) return parent;
  const copy = new Context(
    {
      correlationId: parent.correlationId,
      ...(parent.causationId === undefined ? {} : { causationId: parent.causationId }),
      ...(parent.operation === undefined ? {} : { operation: parent.operation }),
      metadata: { ...parent.metadata },
    },
    undefined,
  );
  copy.adoptOperationId(parent.operationId);
  return copy;
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
  return storage.run(new Context(options, toContext(storage.getStore())), fn);
}

/** Runs `fn` inside exactly `context` (e.g. one restored from a job or message). */
export function runInContext<T>(context: FoundationContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Records a breadcrumb in the current context (bounded to `MAX_BREADCRUMBS`, oldest dropped).
 * Children created afterwards inherit it; the parent of the current context does not see it.
 * No-op outside a context.
 */
export function addBreadcrumb(operation: string, metadata?: Record<string, unknown>): void {
  const ctx = storage.getStore();
  if (!(ctx instanceof Context)) return;
  ctx.push(
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
