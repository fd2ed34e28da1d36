/**
 * What the consumer-group test and its child processes share: the group's settings and the output lines.
 *
 * @module
 */

/** One line of the child's output. */
export interface HandledLine {
  readonly id: string;
  readonly stream: string;
  readonly n: number;
  readonly member: string;
  readonly partition: number;
  readonly at: number;
}

/** Partitions, lease and heartbeat of the group (the test reads them too). */
export const GROUP = { partitions: 8, leaseMs: 1500, heartbeatMs: 250 } as const;
