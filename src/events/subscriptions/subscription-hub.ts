/**
 * The live subscriptions of one `EventStore`: creates them (validated options, the start checkpoint
 * resolved), wakes them after local commits and on the store's cross-process notifications, lists their
 * status, and closes them when the store stops.
 *
 * Cost when nobody subscribes: the event store checks two fields per append ({@link SubscriptionHub.active},
 * {@link SubscriptionHub.resolving}); nothing is allocated and no listener is attached.
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';
import type { Clock } from '../../kernel/clock.js';
import type { EventStorePort } from '../model/port.js';
import { LiveSubscription } from './live-subscription.js';
import { validateSubscribeOptions } from './subscribe-options.js';
import type { Subscription, SubscriptionHandler, SubscriptionStatus } from './types.js';

/** Creates and tracks the live subscriptions of one store. */
export class SubscriptionHub {
  readonly #port: EventStorePort;
  readonly #clock: Clock;
  readonly #live = new Set<LiveSubscription>();
  /** `from: 'end'` / position resolutions in progress: appends wait for them (see {@link resolving}). */
  readonly #pending = new Set<Promise<unknown>>();
  #unwatch: (() => void) | undefined;
  #count = 0;
  readonly #wakeAll = (): void => {
    for (const subscription of this.#live) subscription.wake();
  };

  constructor(port: EventStorePort, clock: Clock) {
    this.#port = port;
    this.#clock = clock;
  }

  /** Whether any subscription is running (checked after each append). */
  get active(): boolean {
    return this.#live.size !== 0;
  }

  /**
   * Whether a subscription is resolving where it starts. An append called meanwhile waits for
   * {@link SubscriptionHub.ready}, so a subscription `from: 'end'` sees every append made after
   * `subscribe()` returned.
   */
  get resolving(): boolean {
    return this.#pending.size !== 0;
  }

  /** Resolves when no start resolution is pending. */
  async ready(): Promise<void> {
    while (this.#pending.size !== 0) await Promise.allSettled([...this.#pending]);
  }

  /** Local commit(s) up to `position`: wake every subscription. */
  committed(position: number): void {
    for (const subscription of this.#live) subscription.wake(position);
  }

  /** Starts a subscription (see `EventStore.subscribe`). */
  subscribe(filter: unknown, options: unknown, handler?: SubscriptionHandler): Subscription {
    const port = subscribable(this.#port);
    if (handler !== undefined && typeof handler !== 'function') {
      throw new FoundationError('FND_EVENTS_INVALID_SUBSCRIPTION', {
        message: 'Invalid subscription: handler must be a function',
        context: { field: 'handler', reason: 'must be a function' },
      });
    }
    const valid = validateSubscribeOptions(filter, options, (checkpoint) =>
      port.checkpointPosition(checkpoint),
    );
    let start: Promise<string> | string;
    let startPosition = 0;
    if (valid.from.kind === 'checkpoint') {
      start = valid.from.checkpoint;
      startPosition = valid.from.position;
    } else {
      const from = valid.from.from;
      if (typeof from === 'number') startPosition = from;
      const resolution = port.resolveFrom(from);
      this.#pending.add(resolution);
      const forget = (): void => {
        this.#pending.delete(resolution);
      };
      resolution.then(forget, forget);
      start = resolution;
    }
    this.#count++;
    const subscription = new LiveSubscription({
      reader: port,
      clock: this.#clock,
      filter: valid.filter,
      start,
      startPosition,
      batchSize: valid.batchSize,
      bufferSize: valid.bufferSize,
      name: valid.name ?? `subscription-${this.#count}`,
      signal: valid.signal,
      onEnd: (ended) => {
        this.#forget(ended);
      },
    });
    const state = subscription.status().state;
    if (state !== 'closed' && state !== 'failed') {
      this.#live.add(subscription);
      if (this.#unwatch === undefined && port.watch !== undefined) {
        this.#unwatch = port.watch(this.#wakeAll);
      }
    }
    if (handler !== undefined) subscription.runHandler(handler);
    return subscription;
  }

  /** Status of every running subscription. */
  statuses(): SubscriptionStatus[] {
    return [...this.#live].map((s) => s.status());
  }

  /** Closes every subscription (the store is stopping). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#live].map((s) => s.close()));
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  #forget(subscription: LiveSubscription): void {
    this.#live.delete(subscription);
    if (this.#live.size === 0 && this.#unwatch !== undefined) {
      const unwatch = this.#unwatch;
      this.#unwatch = undefined;
      unwatch();
    }
  }
}

/** The port's subscription methods, all present. */
type SubscribablePort = EventStorePort &
  Required<Pick<EventStorePort, 'readCommitted' | 'checkpointPosition' | 'resolveFrom'>>;

function subscribable(port: EventStorePort): SubscribablePort {
  if (
    port.readCommitted === undefined ||
    port.checkpointPosition === undefined ||
    port.resolveFrom === undefined
  ) {
    throw new FoundationError('FND_EVENTS_INVALID_SUBSCRIPTION', {
      message: `The ${port.kind} event store does not support subscriptions`,
      context: { kind: port.kind },
    });
  }
  return port as SubscribablePort;
}
