/**
 * Pieces shared by the checkpoint store adapters.
 *
 * @module
 */
import { FoundationError } from '../../../errors/index.js';

/**
 * A member whose heartbeat expired this many lease durations ago is deleted by the next heartbeat of any
 * member (it no longer counts as live as soon as its heartbeat expires).
 */
export const MEMBER_FORGET_FACTOR = 10;

/** The error of a checkpoint write (or lease use) by a member that does not hold the partition's lease. */
export function checkpointConflict(
  name: string,
  partition: number,
  member: string,
  owner: string | null,
): FoundationError {
  return new FoundationError('FND_EVENTS_CHECKPOINT_CONFLICT', {
    message:
      partition < 0
        ? `Durable subscription "${name}" does not exist in the store`
        : `Member "${member}" no longer holds partition ${partition} of "${name}"` +
          (owner !== null && owner !== member ? ` (held by "${owner}")` : ' (lease expired)'),
    context: { name, partition, member, owner },
  });
}
