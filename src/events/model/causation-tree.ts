/**
 * Correlation chains as causation trees.
 *
 * @module
 */
import type { CausationNode, StoredEvent } from './types.js';

interface MutableNode {
  readonly event: StoredEvent;
  readonly children: MutableNode[];
}

/**
 * Arranges events (typically one correlation id's) into trees. An event's parent is the event of the list
 * whose id equals its `parentId`, else the one whose id equals its `causationId`; events whose parent is
 * not in the list are roots. Roots and children are ordered by position. A cycle of references (only
 * possible with caller-chosen ids) is broken at its event of lowest position, which becomes a root, so every
 * event appears exactly once.
 */
export function buildCausationTree(events: readonly StoredEvent[]): CausationNode[] {
  const sorted = [...events].sort((a, b) => a.position - b.position);
  const byId = new Map<string, StoredEvent>();
  for (const e of sorted) if (!byId.has(e.id)) byId.set(e.id, e);

  const parent = new Map<StoredEvent, StoredEvent>();
  for (const e of sorted) {
    let p: StoredEvent | undefined;
    if (e.parentId !== null) p = byId.get(e.parentId);
    if ((p === undefined || p === e) && e.causationId !== null) p = byId.get(e.causationId);
    if (p !== undefined && p !== e) parent.set(e, p);
  }

  // Break cycles: walk up from each event; a revisit within one walk is a cycle.
  const settled = new Set<StoredEvent>();
  for (const start of sorted) {
    const path: StoredEvent[] = [];
    const onPath = new Set<StoredEvent>();
    let cur: StoredEvent | undefined = start;
    while (cur !== undefined && !settled.has(cur)) {
      if (onPath.has(cur)) {
        const cycle = path.slice(path.indexOf(cur));
        let lowest = cur;
        for (const e of cycle) if (e.position < lowest.position) lowest = e;
        parent.delete(lowest);
        break;
      }
      onPath.add(cur);
      path.push(cur);
      cur = parent.get(cur);
    }
    for (const e of path) settled.add(e);
  }

  const nodes = new Map<StoredEvent, MutableNode>();
  for (const e of sorted) nodes.set(e, { event: e, children: [] });
  const roots: MutableNode[] = [];
  for (const e of sorted) {
    const node = nodes.get(e) as MutableNode;
    const p = parent.get(e);
    if (p === undefined) roots.push(node);
    else (nodes.get(p) as MutableNode).children.push(node);
  }
  return roots;
}
