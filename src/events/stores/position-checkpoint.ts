/**
 * Checkpoints of the stores whose commit order is position order (memory, SQLite): the position as a
 * decimal string (`"0"` is before the first event).
 *
 * @module
 */

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** The checkpoint of the event at `position`. */
export function positionCheckpoint(position: number): string {
  return String(position);
}

/** The position of a position checkpoint, or `undefined` when `checkpoint` is not one. */
export function parsePositionCheckpoint(checkpoint: string): number | undefined {
  if (typeof checkpoint !== 'string' || !DECIMAL.test(checkpoint)) return undefined;
  const position = Number(checkpoint);
  return Number.isSafeInteger(position) ? position : undefined;
}
