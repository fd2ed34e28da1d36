/**
 * Helpers of the subscription contract: take events from a subscription's iterator, wait for a status.
 *
 * @module
 */
import { onTelemetry } from '../../../src/kernel/telemetry.js';
import type { Subscription, SubscriptionStatus } from '../../../src/events/subscriptions/types.js';
import type { StoredEvent } from '../../../src/events/model/types.js';

/** A subscription's single iterator with a `take(n)`. */
export interface Reader {
  readonly subscription: Subscription;
  /** The next `n` events (waits for them). */
  take(n: number): Promise<StoredEvent[]>;
  /** Ends the iteration like `break` does (the iterator's return()). */
  stop(): Promise<void>;
}

/** Wraps a subscription's iterator. */
export function reader(subscription: Subscription): Reader {
  const iterator = subscription[Symbol.asyncIterator]();
  return {
    subscription,
    async take(n) {
      const out: StoredEvent[] = [];
      while (out.length < n) {
        const result = await iterator.next();
        if (result.done === true)
          throw new Error(`the subscription ended after ${out.length} of ${n} events`);
        out.push(result.value);
      }
      return out;
    },
    async stop() {
      await iterator.return?.();
    },
  };
}

/**
 * Resolves when `test(status)` holds, checked after every `events:subscription_lag` emission of
 * `subscription` (emitted after each page read) and once at once.
 */
export function statusReaches(
  subscription: Subscription,
  test: (status: SubscriptionStatus) => boolean,
): Promise<SubscriptionStatus> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const status = subscription.status();
      if (!test(status)) return false;
      off();
      resolve(status);
      return true;
    };
    const off = onTelemetry('events:subscription_lag', (message) => {
      if (message.metadata.name === subscription.status().name) queueMicrotask(check);
    });
    check();
  });
}

/** Records the largest `buffered` any `events:subscription_lag` emission of `name` reported. */
export function watchBuffered(name: string): { readonly max: number; stop(): void } {
  let max = 0;
  const off = onTelemetry('events:subscription_lag', (message) => {
    if (message.metadata.name !== name) return;
    const buffered = message.measurements.buffered ?? 0;
    if (buffered > max) max = buffered;
  });
  return {
    get max() {
      return max;
    },
    stop: off,
  };
}
