import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCausationTree } from './causation-tree.js';
import type { CausationNode, StoredEvent } from './types.js';

function ev(
  position: number,
  id: string,
  links: { parentId?: string; causationId?: string } = {},
): StoredEvent {
  return {
    id,
    type: 'a',
    stream: null,
    streamVersion: null,
    position,
    time: position,
    monotonic: position,
    correlationId: 'c',
    causationId: links.causationId ?? null,
    parentId: links.parentId ?? null,
    data: {},
    metadata: {},
    node: 'n',
  };
}

type Shape = [string, Shape[]];
const shape = (nodes: readonly CausationNode[]): Shape[] => nodes.map((n) => [n.event.id, shape(n.children)]);

function flatten(nodes: readonly CausationNode[]): string[] {
  return nodes.flatMap((n) => [n.event.id, ...flatten(n.children)]);
}

describe('buildCausationTree', () => {
  it('links by parentId first, else causationId; orders roots and children by position', () => {
    const events = [
      ev(5, 'e', { causationId: 'a' }),
      ev(1, 'a'),
      ev(2, 'b', { causationId: 'a' }),
      ev(3, 'c', { parentId: 'b', causationId: 'a' }),
      ev(4, 'd', { causationId: 'unknown-op' }),
      ev(6, 'f', { parentId: 'missing', causationId: 'c' }),
    ];
    expect(shape(buildCausationTree(events))).toEqual([
      [
        'a',
        [
          ['b', [['c', [['f', []]]]]],
          ['e', []],
        ],
      ],
      ['d', []],
    ]);
  });

  it('returns an empty forest for no events, and roots for unrelated events', () => {
    expect(buildCausationTree([])).toEqual([]);
    expect(shape(buildCausationTree([ev(2, 'y'), ev(1, 'x')]))).toEqual([
      ['x', []],
      ['y', []],
    ]);
  });

  it('ignores self references and breaks cycles at the lowest position', () => {
    expect(shape(buildCausationTree([ev(1, 'a', { parentId: 'a' })]))).toEqual([['a', []]]);
    const cycle = [
      ev(3, 'c', { parentId: 'b' }),
      ev(1, 'a', { parentId: 'c' }),
      ev(2, 'b', { causationId: 'a' }),
    ];
    expect(shape(buildCausationTree(cycle))).toEqual([['a', [['b', [['c', []]]]]]]);
  });

  it('property: every event appears exactly once, children after a parent link that exists', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.option(fc.nat({ max: 30 })), fc.option(fc.nat({ max: 30 }))), { maxLength: 30 }),
        (links) => {
          const events = links.map(([p, c], i) =>
            ev(i + 1, `e${i}`, {
              ...(p === null ? {} : { parentId: `e${p}` }),
              ...(c === null ? {} : { causationId: `e${c}` }),
            }),
          );
          const forest = buildCausationTree(events);
          const ids = flatten(forest);
          expect([...ids].sort()).toEqual(events.map((e) => e.id).sort());
          const check = (nodes: readonly CausationNode[]) => {
            for (let i = 1; i < nodes.length; i++) {
              expect((nodes[i - 1] as CausationNode).event.position).toBeLessThan(
                (nodes[i] as CausationNode).event.position,
              );
            }
            for (const n of nodes) {
              for (const child of n.children) {
                expect([child.event.parentId, child.event.causationId]).toContain(n.event.id);
              }
              check(n.children);
            }
          };
          check(forest);
        },
      ),
    );
  });
});
