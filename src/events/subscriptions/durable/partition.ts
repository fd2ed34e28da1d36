/**
 * Mapping of events to partitions: a key per event (its stream by default) hashed with 32-bit FNV-1a over
 * its UTF-8 bytes, modulo the partition count. The hash is fixed forever: every member, process and version
 * maps a key to the same partition.
 *
 * @module
 */
import type { StoredEvent } from '../../model/types.js';

/** How a consumer group keys events: `'stream'` (default) or a function of the event. */
export type PartitionKey = 'stream' | ((event: StoredEvent) => string);

/** 32-bit FNV-1a of a string's UTF-8 bytes (unsigned). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The partition (0 … `partitions` - 1) of a key. */
export function partitionOfKey(key: string, partitions: number): number {
  return partitions === 1 ? 0 : fnv1a32(key) % partitions;
}

/**
 * An event's key: with `'stream'`, its stream, or its id when it has no stream (such events have no order
 * to keep and spread over every partition); otherwise what the function returns.
 */
export function eventKey(event: StoredEvent, key: PartitionKey): string {
  if (key === 'stream') return event.stream ?? event.id;
  return key(event);
}
