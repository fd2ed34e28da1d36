import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PreparedEvent } from '../model/port.js';
import type { ExpectedVersion, StoredEvent } from '../model/types.js';
import { groupIds, groupStreams, planGroup, resolvePlan } from './postgres-plan-group.js';
import {
  appendRequest as request,
  preparedWithId as prepared,
} from '../../../test/events/postgres-fixtures.js';

function stored(event: PreparedEvent, position: number, streamVersion: number | null): StoredEvent {
  return { ...event, position, streamVersion };
}

describe('planGroup', () => {
  it('lists the distinct streams sorted and every id of a group', () => {
    const group = [request([prepared('a', 's2'), prepared('b', null)]), request([prepared('c', 's1')], 0)];
    expect(groupStreams(group)).toEqual(['s1', 's2']);
    expect(groupIds(group)).toEqual(['a', 'b', 'c']);
  });

  it('continues stream versions across the requests of a group', () => {
    const group = [
      request([prepared('a', 's'), prepared('b', 's')], 3),
      request([prepared('c', 's')], 5),
      request([prepared('d', null)]),
    ];
    const plan = planGroup(group, new Map([['s', 3]]), new Map());
    expect(plan.rows.map((r) => [r.event.id, r.streamVersion])).toEqual([
      ['a', 4],
      ['b', 5],
      ['c', 6],
      ['d', null],
    ]);
    expect([...plan.streamVersions]).toEqual([['s', 6]]);
    expect(plan.unusedStreams).toEqual([]);
    const outcomes = resolvePlan(
      plan,
      new Map([
        ['a', 10],
        ['b', 11],
        ['c', 12],
        ['d', 13],
      ]),
    );
    expect(
      outcomes.map((o) => (o.ok ? o.events.map((e) => [e.position, e.streamVersion]) : o.error.code)),
    ).toEqual([
      [
        [10, 4],
        [11, 5],
      ],
      [[12, 6]],
      [[13, null]],
    ]);
  });

  it('reports a version conflict against the state left by earlier requests, and writes nothing of it', () => {
    const group = [request([prepared('a', 's')], 'no_stream'), request([prepared('b', 's')], 'no_stream')];
    const plan = planGroup(group, new Map([['s', 0]]), new Map());
    expect(plan.rows.map((r) => r.event.id)).toEqual(['a']);
    const outcomes = resolvePlan(plan, new Map([['a', 1]]));
    expect(outcomes[0]?.ok).toBe(true);
    const second = outcomes[1];
    expect(second?.ok).toBe(false);
    if (second?.ok === false) {
      expect(second.error.code).toBe('FND_EVENTS_VERSION_CONFLICT');
      expect(second.error.context).toEqual({ stream: 's', expected: 'no_stream', actual: 1 });
    }
  });

  it('answers a retry of stored events with the stored events, idempotently', () => {
    const a = prepared('a', 's', { x: 1 });
    const plan = planGroup([request([a], 0)], new Map([['s', 1]]), new Map([['a', stored(a, 7, 1)]]));
    expect(plan.rows).toEqual([]);
    const [outcome] = resolvePlan(plan, new Map());
    expect(outcome).toEqual({ ok: true, idempotent: true, events: [stored(a, 7, 1)] });
  });

  it('treats a repeated id within the group as idempotent and points it at the new row', () => {
    const a = prepared('a', 's', { x: 1 });
    const plan = planGroup([request([a]), request([a])], new Map([['s', 0]]), new Map());
    expect(plan.rows).toHaveLength(1);
    const outcomes = resolvePlan(plan, new Map([['a', 4]]));
    expect(outcomes.map((o) => (o.ok ? [o.idempotent, o.events[0]?.position] : o.error.code))).toEqual([
      [false, 4],
      [true, 4],
    ]);
  });

  it('refuses other content and partial batches with FND_EVENTS_ID_CONFLICT', () => {
    const a = prepared('a', 's', { x: 1 });
    const changed = prepared('a', 's', { x: 2 });
    const plan = planGroup(
      [request([changed]), request([a, prepared('b', 's')])],
      new Map([['s', 1]]),
      new Map([['a', stored(a, 1, 1)]]),
    );
    expect(plan.rows).toEqual([]);
    const outcomes = resolvePlan(plan, new Map());
    expect(outcomes.map((o) => (o.ok ? 'ok' : [o.error.code, o.error.context.reason]))).toEqual([
      ['FND_EVENTS_ID_CONFLICT', 'content'],
      ['FND_EVENTS_ID_CONFLICT', 'partial'],
    ]);
  });

  it('lists new streams that received nothing, so their fresh rows are removed', () => {
    const plan = planGroup(
      [request([prepared('a', 'fresh')], 5), request([prepared('b', 'old')], 'any')],
      new Map([
        ['fresh', 0],
        ['old', 2],
      ]),
      new Map(),
    );
    expect(plan.unusedStreams).toEqual(['fresh']);
    expect([...plan.streamVersions]).toEqual([['old', 3]]);
  });

  it('gives every stream contiguous versions from its locked version, whatever the group', () => {
    const streams = ['s0', 's1', 's2'];
    const req = fc.record({
      streams: fc.array(fc.constantFrom(...streams, null), { minLength: 1, maxLength: 4 }),
      expected: fc.constantFrom<ExpectedVersion>('any', 'no_stream', 'stream_exists', 0, 1, 2, 3),
    });
    fc.assert(
      fc.property(
        fc.array(req, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(3), { minLength: 3, maxLength: 3 }),
        (reqs, base) => {
          let next = 0;
          const group = reqs.map((r) => {
            const events =
              r.expected === 'any'
                ? r.streams.map((s) => prepared(`e${next++}`, s))
                : [prepared(`e${next++}`, 's0')];
            return request(events, r.expected);
          });
          const versions = new Map(streams.map((s, i) => [s, base[i] ?? 0]));
          const plan = planGroup(group, versions, new Map());
          for (const [i, stream] of streams.entries()) {
            const got = plan.rows.filter((r) => r.event.stream === stream).map((r) => r.streamVersion);
            const from = base[i] ?? 0;
            expect(got).toEqual(got.map((_, k) => from + k + 1));
            if (got.length > 0) expect(plan.streamVersions.get(stream)).toBe(from + got.length);
          }
          const outcomes = resolvePlan(plan, new Map(plan.rows.map((r, k) => [r.event.id, k + 1])));
          const written = outcomes.flatMap((o) => (o.ok ? o.events.map((e) => e.id) : []));
          expect(written).toEqual(plan.rows.map((r) => r.event.id));
        },
      ),
    );
  });
});
