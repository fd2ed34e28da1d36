/**
 * Retention on the memory event store, through its `removeEvents` hook.
 *
 * @module
 */
import type { MemoryEventStore } from '../stores/memory-store.js';
import { MAX_READ_LIMIT, type StoredEvent } from '../model/types.js';
import { governs } from './policy.js';
import type { RetentionBound, RetentionRule, RetentionTarget } from './types.js';

/** A {@link RetentionTarget} on a {@link MemoryEventStore}. */
export class MemoryRetentionTarget implements RetentionTarget {
  /** Always `memory`. */
  readonly kind = 'memory';
  readonly #store: MemoryEventStore;

  /** @param store - the memory store whose events retention deletes. */
  constructor(store: MemoryEventStore) {
    this.#store = store;
  }

  /** Reads the log forward (the store's own `readAll`), keeping the governed positions. */
  async nthNewest(rule: RetentionRule, n: number): Promise<number | undefined> {
    const positions: number[] = [];
    for (let after = 0; ;) {
      const batch = await this.#store.readAll({ afterPosition: after, limit: MAX_READ_LIMIT });
      for (const event of batch) if (governs(rule, event.type)) positions.push(event.position);
      const last = batch[batch.length - 1];
      if (last === undefined) break;
      after = last.position;
    }
    return positions[positions.length - n];
  }

  /** Removes the oldest governed events within the bound (by time for an age bound). */
  deleteBatch(rule: RetentionRule, bound: RetentionBound, limit: number): Promise<number> {
    const inBound =
      bound.beforeTime !== undefined
        ? (e: StoredEvent) => e.time < bound.beforeTime
        : (e: StoredEvent) => e.position < bound.beforePosition;
    return Promise.resolve(this.#store.removeEvents((e) => inBound(e) && governs(rule, e.type), limit));
  }
}
