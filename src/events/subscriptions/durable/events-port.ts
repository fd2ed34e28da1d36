/**
 * What durable subscriptions need of the event store: the callback form of `subscribe` and a query (to
 * find the end of the log). `EventStore` provides both.
 *
 * @module
 */
import type { QueryPage } from '../../model/types.js';
import type { SubscribeOptions, Subscription, SubscriptionFilter, SubscriptionHandler } from '../types.js';

/** The part of `EventStore` a durable subscription uses. */
export interface SubscribableEvents {
  /** Subscribes with a handler, one matching event at a time (`EventStore.subscribe`). */
  subscribe(
    filter: SubscriptionFilter,
    options: SubscribeOptions | undefined,
    handler: SubscriptionHandler,
  ): Subscription;
  /** Reads a page of the log (used to resolve the start position). */
  query(query: unknown): Promise<QueryPage>;
}
