/**
 * Contract cases: correlation and causation from the context, and correlation chains.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { currentContext, withContext } from '../../../src/errors/index.js';
import type { CausationNode } from '../../../src/events/model/types.js';
import type { MakeEventStore } from './fixture.js';
import { useStore } from './fixture.js';

/** A tree as nested [type, children] pairs, easy to compare. */
type Shape = [string, Shape[]];
function shape(nodes: readonly CausationNode[]): Shape[] {
  return nodes.map((n) => [n.event.type, shape(n.children)]);
}

/** Context stamping and correlation chains. */
export function contextChainCases(make: MakeEventStore): void {
  const t = useStore(make);

  describe('context', () => {
    it('takes the correlation id and causation (operation) id from the current context', async () => {
      let operationId = '';
      const result = await withContext({ correlationId: 'request-7' }, () => {
        operationId = currentContext()!.operationId;
        return t.store.append([{ type: 'a.b' }, { type: 'c.d', stream: 's' }]);
      });
      for (const event of result.events) {
        expect(event.correlationId).toBe('request-7');
        expect(event.causationId).toBe(operationId);
      }
      expect((await t.store.get(result.events[1]!.id))?.correlationId).toBe('request-7');
    });

    it('explicit correlation, causation and parent ids win over the context', async () => {
      const result = await withContext({ correlationId: 'ctx-corr' }, () =>
        t.store.append({ type: 'a.b', correlationId: 'own-corr', causationId: 'own-cause', parentId: 'p-1' }),
      );
      expect(result.events[0]).toMatchObject({
        correlationId: 'own-corr',
        causationId: 'own-cause',
        parentId: 'p-1',
      });
    });
  });

  describe('correlationChain', () => {
    it('builds the causation tree of one correlation, roots and children in order', async () => {
      const root = await t.store.append({ id: 'root', type: 'order.placed', correlationId: 'c-1' });
      await t.store.append({ type: 'noise.other', correlationId: 'c-2', causationId: 'root' });
      const a = await t.store.append({
        id: 'a',
        type: 'payment.requested',
        correlationId: 'c-1',
        causationId: 'root',
      });
      await t.store.append({ id: 'b', type: 'stock.reserved', correlationId: 'c-1', causationId: 'root' });
      await t.store.append({ id: 'a1', type: 'payment.captured', correlationId: 'c-1', parentId: 'a' });
      await t.store.append({
        id: 'a2',
        type: 'receipt.sent',
        correlationId: 'c-1',
        causationId: 'a1',
        parentId: 'a',
      });
      await t.store.append({
        id: 'lone',
        type: 'audit.logged',
        correlationId: 'c-1',
        causationId: 'elsewhere',
      });

      const chain = await t.store.correlationChain('c-1');
      expect(shape(chain)).toEqual([
        [
          'order.placed',
          [
            [
              'payment.requested',
              [
                ['payment.captured', []],
                ['receipt.sent', []],
              ],
            ],
            ['stock.reserved', []],
          ],
        ],
        ['audit.logged', []],
      ]);
      expect(chain[0]!.event).toEqual(root.events[0]);
      expect(chain[0]!.children[0]!.event).toEqual(a.events[0]);
      expect(await t.store.correlationChain('c-2')).toHaveLength(1);
      expect(await t.store.correlationChain('nobody')).toEqual([]);
    });

    it("holds every event appended in the correlation's nested contexts", async () => {
      await withContext({ correlationId: 'flow-1' }, async () => {
        await t.store.append({ type: 'flow.started' });
        await withContext({}, () => t.store.append({ type: 'flow.step' }));
      });
      const chain = await t.store.correlationChain('flow-1');
      const all = chain.flatMap(function walk(n): string[] {
        return [n.event.type, ...n.children.flatMap(walk)];
      });
      expect(all.sort()).toEqual(['flow.started', 'flow.step']);
    });
  });
}
