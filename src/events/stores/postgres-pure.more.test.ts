/**
 * The pure parts of the PostgreSQL event store that need no server: checkpoint parsing, the mapping of a
 * commit-order read's rows to a page, the fast statement's parameters, the SQLSTATE and closed-gate tests,
 * and the group planner for streams that have no locked row.
 */
import { describe, expect, it } from 'vitest';
import type { AppendRequest } from '../model/port.js';
import { sqlState } from './postgres-client.js';
import {
  commitOrdered,
  parseTxCheckpoint,
  readCommittedStatement,
  txCheckpoint,
  type CommittedRow,
} from './postgres-committed.js';
import { fastAppendParams, isClosedGate } from './postgres-fast-append.js';
import { eventsChannel } from './postgres-listener.js';
import { planGroup, resolvePlan } from './postgres-plan-group.js';
import { preparedWithId as prepared } from '../../../test/events/postgres-fixtures.js';

/** A row of the commit-order read: event `position` of transaction `tx`, matching the filter or not. */
function row(tx: string, position: number, hit: boolean, last = 100): CommittedRow {
  return {
    held: false,
    last,
    tx,
    range_hi: position,
    hit,
    position,
    id: `e${String(position)}`,
    type: 'a.b',
    stream: null,
    stream_version: null,
    time: 1000,
    monotonic: 1,
    correlation_id: null,
    causation_id: null,
    parent_id: null,
    node: 'n',
    data: hit ? { position } : null,
    metadata: hit ? {} : null,
  };
}

describe('parseTxCheckpoint', () => {
  it('parses <tx>.<position> with an optional snapshot', () => {
    expect(parseTxCheckpoint('12.34')).toEqual({ tx: '12', position: 34, snapshot: undefined });
    expect(parseTxCheckpoint('12.34~10:20:11,12')).toEqual({
      tx: '12',
      position: 34,
      snapshot: '10:20:11,12',
    });
    expect(parseTxCheckpoint(txCheckpoint('5', 6, '1:9:'))).toEqual({
      tx: '5',
      position: 6,
      snapshot: '1:9:',
    });
  });

  it('refuses what is not a checkpoint: other types, a tx past xid8, a position past 2^53', () => {
    expect(parseTxCheckpoint(12 as unknown as string)).toBeUndefined();
    expect(parseTxCheckpoint('garbage')).toBeUndefined();
    // 2^64 - 1 is the largest xid8; one more is not a transaction id.
    expect(parseTxCheckpoint('18446744073709551615.1')).toEqual({
      tx: '18446744073709551615',
      position: 1,
      snapshot: undefined,
    });
    expect(parseTxCheckpoint('18446744073709551616.1')).toBeUndefined();
    expect(parseTxCheckpoint('1.9999999999999999')).toBeUndefined();
  });
});

describe('readCommittedStatement().page', () => {
  it('an answer without rows is an empty page at the same place, last position 0', () => {
    const statement = readCommittedStatement({}, 10);
    expect(statement.page([], '7.3', undefined)).toEqual({
      events: [],
      checkpoints: [],
      head: '7.3',
      more: false,
      held: false,
      lastPosition: 0,
    });
  });

  it('keeps the snapshot in the head while reads are below its xmax, and drops it past', () => {
    const statement = readCommittedStatement({}, 10);
    const snapshot = '100:105:101,103';
    const below = statement.page([row('101', 7, true), row('103', 9, false)], '0.0', snapshot);
    expect(below.events.map((e) => e.position)).toEqual([7]);
    expect(below.checkpoints).toEqual(['101.7']);
    expect(below.head).toBe(`103.9~${snapshot}`);
    const past = statement.page([row('103', 9, true), row('105', 12, true)], below.head, snapshot);
    expect(past.checkpoints).toEqual(['103.9', '105.12']);
    expect(past.head).toBe('105.12');
  });

  it('says more when the scan window was used up, even without a match', () => {
    const statement = readCommittedStatement({}, 10);
    // limit 10: the window is the minimum, 1000 rows.
    const rows = Array.from({ length: 1000 }, (_, i) => row('50', i + 1, false, 5000));
    const page = statement.page(rows, '0.0', undefined);
    expect(page.events).toEqual([]);
    expect(page.head).toBe('50.1000');
    expect(page.more).toBe(true);
    expect(page.lastPosition).toBe(5000);
    const short = statement.page(rows.slice(0, 999), '0.0', undefined);
    expect(short.more).toBe(false);
  });

  it('reads rows in commit order whatever order they arrive in (tx by number, then position)', () => {
    const statement = readCommittedStatement({}, 10);
    const gone: CommittedRow = { ...row('99', 0, false), range_hi: 40, hit: null, position: null, id: null };
    const ordered = [row('9', 50, true), row('9', 51, false), gone, row('100', 7, true), row('100', 8, true)];
    const shuffled = [ordered[3], ordered[1], ordered[4], gone, ordered[0]] as CommittedRow[];
    expect(commitOrdered(ordered)).toBe(ordered);
    expect(commitOrdered(shuffled)).toEqual(ordered);
    const page = statement.page(shuffled, '0.0', undefined);
    expect(page.checkpoints).toEqual(['9.50', '100.7', '100.8']);
    expect(page.head).toBe('100.8');
  });

  it('moves past a statement row whose events are gone (NULL event columns), counting it in the window', () => {
    const statement = readCommittedStatement({}, 10);
    const gone = (tx: string, hi: number): CommittedRow => ({
      ...row(tx, 0, false),
      range_hi: hi,
      hit: null,
      position: null,
      id: null,
    });
    const page = statement.page([gone('40', 120), row('41', 130, true), gone('42', 150)], '0.0', undefined);
    expect(page.events.map((e) => e.position)).toEqual([130]);
    expect(page.checkpoints).toEqual(['41.130']);
    expect(page.head).toBe('42.150');
    expect(page.more).toBe(false);
    // A window of nothing but emptied rows still says more, from past the last of them.
    const emptied = statement.page(
      Array.from({ length: 1000 }, (_, i) => gone(String(i + 1), (i + 1) * 100)),
      '0.0',
      undefined,
    );
    expect(emptied.events).toEqual([]);
    expect(emptied.head).toBe('1000.100000');
    expect(emptied.more).toBe(true);
  });
});

describe('fastAppendParams', () => {
  it('sends a one-event group as one-element array literals', () => {
    const event = prepared('only', 's');
    const request: AppendRequest = { events: [event], expectedVersion: 'any', stream: null };
    expect(fastAppendParams([request])).toEqual([
      '{"s"}',
      '{1}',
      '{"only"}',
      '{}',
      '{}',
      '{}',
      '{}',
      '{"test.happened"}',
      '{"s"}',
      '{}',
      '{1000}',
      '{1}',
      '{NULL}',
      '{NULL}',
      '{NULL}',
      '[{}]',
      '[{}]',
      '{"n1"}',
    ]);
  });

  it('refuses a group with one id twice (the transactional path answers the repeat)', () => {
    const event = prepared('twice', 's');
    const request: AppendRequest = { events: [event, event], expectedVersion: 'any', stream: null };
    expect(fastAppendParams([request])).toBeUndefined();
  });
});

describe('isClosedGate and sqlState', () => {
  it('recognise driver errors only', () => {
    expect(isClosedGate({ code: '23502', column: 'type' })).toBe(true);
    expect(isClosedGate({ code: '23502', column: 'id' })).toBe(false);
    expect(isClosedGate(undefined)).toBe(false);
    expect(isClosedGate(null)).toBe(false);
    expect(isClosedGate('23502')).toBe(false);
    expect(sqlState({ code: '55P03' })).toBe('55P03');
    expect(sqlState({ code: 55 })).toBeUndefined();
    expect(sqlState(null)).toBeUndefined();
    expect(sqlState('55P03')).toBeUndefined();
  });
});

describe('eventsChannel', () => {
  it('is fnd_events_<schema>, cut at 63 bytes', () => {
    expect(eventsChannel('t_abc')).toBe('fnd_events_t_abc');
    expect(eventsChannel('s'.repeat(80))).toHaveLength(63);
  });
});

describe('planGroup without a locked row for a stream', () => {
  it('takes a stream missing from the locked versions as version 0', () => {
    const group: AppendRequest[] = [
      { events: [prepared('a', 'fresh')], expectedVersion: 'no_stream', stream: 'fresh' },
      { events: [prepared('b', 'other')], expectedVersion: 'any', stream: null },
      { events: [prepared('c', 'fresh')], expectedVersion: 'no_stream', stream: 'fresh' },
    ];
    const plan = planGroup(group, new Map(), new Map());
    expect(plan.rows.map((r) => [r.event.id, r.streamVersion])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect([...plan.streamVersions]).toEqual([
      ['fresh', 1],
      ['other', 1],
    ]);
    const outcomes = resolvePlan(
      plan,
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    expect(outcomes.map((o) => (o.ok ? o.events.map((e) => e.streamVersion) : o.error.code))).toEqual([
      [1],
      [1],
      'FND_EVENTS_VERSION_CONFLICT',
    ]);
  });
});
