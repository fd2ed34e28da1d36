/**
 * The partition assignment of a consumer group, as a pure function of the group's view: each live member
 * aims at a fair share of `ceil(partitions / live members)`; one with more releases the surplus, one with
 * fewer takes free (unowned or expired) partitions. Each partition has a preferred member (`members[p % n]`
 * in id order) so members that race for free partitions mostly pick different ones. Leases in the store make
 * the outcome safe whatever members believe: taking a lease is atomic and only succeeds on a free partition.
 *
 * @module
 */
import type { GroupView } from './checkpoint-store.js';

/** What a member should do after a heartbeat. */
export interface AssignmentPlan {
  /** Its fair share: `ceil(partitions / live members)`. */
  readonly quota: number;
  /** Partitions it holds (owner and unexpired at the view's time). */
  readonly held: readonly number[];
  /** Partitions to give up (surplus over the quota). */
  readonly release: readonly number[];
  /** Free partitions to try to take, best first (at most quota - held). */
  readonly acquire: readonly number[];
}

/** Plans `member`'s next step from a view taken by its own heartbeat. */
export function planAssignment(member: string, view: GroupView, partitionCount: number): AssignmentPlan {
  const ids = view.members.map((m) => m.member);
  if (!ids.includes(member)) ids.push(member);
  ids.sort();
  const n = ids.length;
  const me = ids.indexOf(member);
  const quota = Math.ceil(partitionCount / n);
  const preferred = (p: number): boolean => p % n === me;
  const rank = (p: number): number => (preferred(p) ? 0 : 1);
  const held: number[] = [];
  const free: number[] = [];
  for (const row of view.partitions) {
    if (row.partition >= partitionCount) continue;
    const live = row.owner !== null && row.leaseExpiresAt > view.now;
    if (live && row.owner === member) held.push(row.partition);
    else if (!live) free.push(row.partition);
  }
  if (held.length > quota) {
    // Give up the partitions another member prefers first, the highest numbers first.
    const order = [...held].sort((a, b) => rank(b) - rank(a) || b - a);
    return { quota, held, release: order.slice(0, held.length - quota), acquire: [] };
  }
  const order = free.sort((a, b) => rank(a) - rank(b) || a - b);
  return { quota, held, release: [], acquire: order.slice(0, quota - held.length) };
}
