import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/index.js';
import type { TelemetryMessage } from '../kernel/telemetry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { rejection } from '../testing/capture.js';
import { classifyStoreError, GroupCommit } from './group-commit.js';
import type { AppendOutcome, AppendRequest, PreparedEvent } from './model/port.js';
import type { StoredEvent } from './model/types.js';

/** A request whose single event's id names it, so outcomes can be traced back. */
function request(name: string, events = 1, stream: string | null = null): AppendRequest {
  const list = Array.from(
    { length: events },
    (_, i) => ({ id: `${name}-${i}`, stream }) as unknown as PreparedEvent,
  );
  return { events: list, expectedVersion: 'any', stream: null };
}

function okOutcome(req: AppendRequest): AppendOutcome {
  return {
    ok: true,
    idempotent: false,
    events: req.events.map((e) => ({ id: e.id }) as unknown as StoredEvent),
  };
}

interface HeldGroup {
  readonly requests: readonly AppendRequest[];
  release(outcomes?: AppendOutcome[]): void;
  fail(error: unknown): void;
}

/** A fake store whose every group stays open until the test releases it. */
function heldPort() {
  const groups: HeldGroup[] = [];
  const commit = (requests: readonly AppendRequest[]): Promise<AppendOutcome[]> =>
    new Promise<AppendOutcome[]>((resolve, reject) => {
      groups.push({
        requests,
        release: (outcomes) => {
          resolve(outcomes ?? requests.map(okOutcome));
        },
        fail: reject,
      });
    });
  return { groups, commit };
}

/** Tracks whether a promise settled, without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets committed groups settle their callers and the committer decide (one macrotask later) the next group. */
async function flush(): Promise<void> {
  await macrotask();
  await macrotask();
}

function ids(group: HeldGroup | undefined): string[] {
  return (group?.requests ?? []).map((r) => r.events[0]?.id ?? '');
}

describe('GroupCommit', () => {
  const clock = new FakeClock();
  const unsubscribers: (() => void)[] = [];
  afterEach(() => {
    for (const u of unsubscribers.splice(0)) u();
  });

  it('sends a request at once when idle', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock });
    const a = track(gc.submit(request('a')));
    expect(port.groups).toHaveLength(1);
    expect(ids(port.groups[0])).toEqual(['a-0']);
    expect(gc.busy).toBe(true);
    await flush();
    expect(a.settled).toBe(false);
    port.groups[0]?.release();
    await flush();
    expect(a.value).toMatchObject({ ok: true, events: [{ id: 'a-0' }] });
    expect(gc.busy).toBe(false);
  });

  it('puts every request arriving while a group is open into ONE next group, each caller waiting for its own commit', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock });
    const a = track(gc.submit(request('a')));
    const b = track(gc.submit(request('b')));
    const c = track(gc.submit(request('c')));
    const d = track(gc.submit(request('d')));
    expect(port.groups).toHaveLength(1);
    expect(gc.queued).toBe(3);
    await flush();
    expect([a.settled, b.settled, c.settled, d.settled]).toEqual([false, false, false, false]);

    port.groups[0]?.release();
    await flush();
    expect(a.settled).toBe(true);
    expect(port.groups).toHaveLength(2);
    expect(ids(port.groups[1])).toEqual(['b-0', 'c-0', 'd-0']);
    // b, c, d are in the second group, which has not committed yet.
    expect([b.settled, c.settled, d.settled]).toEqual([false, false, false]);

    const e = track(gc.submit(request('e')));
    expect(port.groups).toHaveLength(2);
    port.groups[1]?.release();
    await flush();
    expect(b.value).toMatchObject({ ok: true, events: [{ id: 'b-0' }] });
    expect(c.value).toMatchObject({ ok: true, events: [{ id: 'c-0' }] });
    expect(d.value).toMatchObject({ ok: true, events: [{ id: 'd-0' }] });
    expect(e.settled).toBe(false);
    expect(ids(port.groups[2])).toEqual(['e-0']);
    port.groups[2]?.release();
    await flush();
    expect(e.value).toMatchObject({ ok: true, events: [{ id: 'e-0' }] });
  });

  it('answers each request with its own outcome: a failing request does not fail its group-mates', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock });
    track(gc.submit(request('a')));
    const b = track(gc.submit(request('b')));
    const c = track(gc.submit(request('c')));
    port.groups[0]?.release();
    await flush();
    const conflict = new FoundationError('FND_EVENTS_VERSION_CONFLICT', {
      context: { stream: 's', expected: 0, actual: 1 },
    });
    const group = port.groups[1];
    group?.release([{ ok: false, error: conflict }, okOutcome(group.requests[1] as AppendRequest)]);
    await flush();
    expect(b.value).toEqual({ ok: false, error: conflict });
    expect(c.value).toMatchObject({ ok: true, events: [{ id: 'c-0' }] });
  });

  it('fails only the rejected group, with a classified error; later groups still run', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock });
    const a = track(gc.submit(request('a')));
    const b = track(gc.submit(request('b')));
    const c = track(gc.submit(request('c')));
    const boom = new Error('disk I/O error');
    port.groups[0]?.fail(boom);
    await flush();
    expect(a.error).toBeInstanceOf(FoundationError);
    expect(a.error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', cause: boom });
    expect(b.settled).toBe(false);
    expect(ids(port.groups[1])).toEqual(['b-0', 'c-0']);
    const unavailable = new FoundationError('FND_STORAGE_UNAVAILABLE');
    port.groups[1]?.fail(unavailable);
    await flush();
    expect(b.error).toBe(unavailable);
    expect(c.error).toBe(unavailable);
    const d = track(gc.submit(request('d')));
    port.groups[2]?.release();
    await flush();
    expect(d.value).toMatchObject({ ok: true, events: [{ id: 'd-0' }] });
  });

  it('fails the group when the store throws synchronously or answers the wrong number of outcomes', async () => {
    let calls = 0;
    const gc = new GroupCommit(
      (requests) => {
        calls++;
        if (calls === 1) throw new Error('sync failure');
        return Promise.resolve(requests.slice(1).map(okOutcome));
      },
      { maxGroupRequests: 10, clock },
    );
    const first = await rejection(gc.submit(request('a')));
    expect(first).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED' });
    const second = await rejection(gc.submit(request('b')));
    expect(second).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', context: { requests: 1, outcomes: 0 } });
  });

  it('bounds a group to maxGroupRequests and sends the rest in the following groups, in order', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 2, clock });
    const all = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => track(gc.submit(request(n))));
    for (let i = 0; i < 4; i++) {
      port.groups[i]?.release();
      await flush();
    }
    expect(port.groups.map(ids)).toEqual([['a-0'], ['b-0', 'c-0'], ['d-0', 'e-0'], ['f-0']]);
    expect(all.every((s) => s.settled)).toBe(true);
  });

  it('idle() resolves once nothing is in flight or queued', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock });
    await gc.idle();
    track(gc.submit(request('a')));
    track(gc.submit(request('b')));
    const idle = track(gc.idle());
    port.groups[0]?.release();
    await flush();
    expect(idle.settled).toBe(false);
    port.groups[1]?.release();
    await flush();
    expect(idle.settled).toBe(true);
  });

  it('publishes events:group_committed with requests, events and duration', async () => {
    const messages: TelemetryMessage[] = [];
    const listener = (message: unknown) => {
      messages.push(message as TelemetryMessage);
    };
    diagnosticsChannel.subscribe('foundation:events:group_committed', listener);
    unsubscribers.push(() => diagnosticsChannel.unsubscribe('foundation:events:group_committed', listener));
    const fake = new FakeClock();
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock: fake });
    track(gc.submit(request('a', 3)));
    fake.advance(7);
    port.groups[0]?.release();
    await flush();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.measurements).toEqual({ requests: 1, events: 3, duration: 7 });
  });

  it('rejects a group size or a number of groups in flight below 1', () => {
    expect(() => new GroupCommit(() => Promise.resolve([]), { maxGroupRequests: 0, clock })).toThrow(
      FoundationError,
    );
    expect(
      () =>
        new GroupCommit(() => Promise.resolve([]), { maxGroupRequests: 1, maxConcurrentGroups: 0, clock }),
    ).toThrow(FoundationError);
  });

  it('decides the next group one macrotask after a commit, so the callers just answered join it', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock });
    const a = gc.submit(request('a'));
    track(gc.submit(request('b')));
    port.groups[0]?.release();
    await a;
    // a's caller is answered; the next group is not decided yet, and nothing bypasses the queue.
    expect(gc.busy).toBe(true);
    const a2 = track(gc.submit(request('a2')));
    expect(port.groups).toHaveLength(1);
    expect(gc.queued).toBe(2);
    await flush();
    expect(port.groups.map(ids)).toEqual([['a-0'], ['b-0', 'a2-0']]);
    expect(a2.settled).toBe(false);
  });

  it("sends a lone writer's next append at once after its commit (nobody else could join its group)", async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, clock });
    const a = gc.submit(request('a'));
    port.groups[0]?.release();
    await a;
    expect(gc.busy).toBe(false);
    track(gc.submit(request('a2')));
    expect(port.groups.map(ids)).toEqual([['a-0'], ['a2-0']]);
  });

  it('with maxConcurrentGroups 2 keeps two disjoint groups in flight, FIFO, each caller settling after its own commit', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, maxConcurrentGroups: 2, clock });
    const a = track(gc.submit(request('a', 1, 's1')));
    const b = track(gc.submit(request('b', 1, 's2')));
    const c = track(gc.submit(request('c', 1, 's3')));
    const d = track(gc.submit(request('d', 1, 's4')));
    expect(port.groups.map(ids)).toEqual([['a-0'], ['b-0']]);
    expect(gc.inFlight).toBe(2);
    expect(gc.queued).toBe(2);

    port.groups[1]?.release();
    await flush();
    expect(b.value).toMatchObject({ ok: true, events: [{ id: 'b-0' }] });
    expect(a.settled).toBe(false);
    expect(port.groups.map(ids)).toEqual([['a-0'], ['b-0'], ['c-0', 'd-0']]);
    expect(gc.inFlight).toBe(2);

    port.groups[2]?.fail(new FoundationError('FND_STORAGE_UNAVAILABLE'));
    await flush();
    expect(c.error).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
    expect(d.error).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
    expect(a.settled).toBe(false);

    port.groups[0]?.release();
    await flush();
    expect(a.value).toMatchObject({ ok: true, events: [{ id: 'a-0' }] });
    expect(gc.busy).toBe(false);
    await gc.idle();
  });

  it('does not overlap groups that share a stream or an id: they wait, and so does everything behind them', async () => {
    const port = heldPort();
    const gc = new GroupCommit(port.commit, { maxGroupRequests: 10, maxConcurrentGroups: 2, clock });
    track(gc.submit(request('a', 1, 'x')));
    track(gc.submit(request('b', 1, 'x')));
    track(gc.submit(request('c', 1, 'y')));
    expect(port.groups.map(ids)).toEqual([['a-0']]);
    expect(gc.queued).toBe(2);
    port.groups[0]?.release();
    await flush();
    expect(port.groups.map(ids)).toEqual([['a-0'], ['b-0', 'c-0']]);

    // The same id (an idempotent retry) without a stream waits too; a checked request's stream counts.
    track(gc.submit(request('b')));
    const checked: AppendRequest = { ...request('e'), expectedVersion: 0, stream: 'y' };
    track(gc.submit(checked));
    track(gc.submit(request('f', 1, 'z')));
    expect(port.groups).toHaveLength(2);
    port.groups[1]?.release();
    await flush();
    expect(port.groups.map(ids).slice(2)).toEqual([['b-0', 'e-0', 'f-0']]);
  });

  it('property: FIFO, at most N groups in flight, no shared stream in flight, every caller settles with its own outcome after its group', async () => {
    type Step =
      | { readonly kind: 'submit'; readonly stream: number | null }
      | { readonly kind: 'release'; readonly pick: number; readonly fail: boolean }
      | { readonly kind: 'flush' };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('submit' as const), stream: fc.option(fc.nat(3), { nil: null }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat(7), fail: fc.boolean() }),
      fc.record({ kind: fc.constant('flush' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(step, { maxLength: 40 }),
        async (maxGroups, maxRequests, steps: Step[]) => {
          const port = heldPort();
          const gc = new GroupCommit(port.commit, {
            maxGroupRequests: maxRequests,
            maxConcurrentGroups: maxGroups,
            clock,
          });
          const submitted: string[] = [];
          const calls = new Map<string, ReturnType<typeof track<AppendOutcome>>>();
          const done = new Set<number>();
          const failed = new Set<number>();
          const check = () => {
            const open = port.groups.map((_, i) => i).filter((i) => !done.has(i));
            expect(open.length).toBeLessThanOrEqual(maxGroups);
            expect(open.length).toBe(gc.inFlight);
            for (const group of port.groups) expect(group.requests.length).toBeLessThanOrEqual(maxRequests);
            expect(port.groups.flatMap(ids)).toEqual(submitted.slice(0, port.groups.flatMap(ids).length));
            if (open.length > 1) {
              const named = open.flatMap((i) => [
                ...new Set(
                  (port.groups[i]?.requests ?? []).flatMap((r) =>
                    r.events.flatMap((e) => (e.stream === null ? [] : [e.stream])),
                  ),
                ),
              ]);
              expect(new Set(named).size).toBe(named.length);
            }
            port.groups.forEach((group, i) => {
              for (const id of ids(group)) {
                const call = calls.get(id);
                expect(call?.settled).toBe(done.has(i));
                if (done.has(i) && failed.has(i))
                  expect(call?.error).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
                if (done.has(i) && !failed.has(i)) expect(call?.value).toMatchObject({ events: [{ id }] });
              }
            });
          };
          const release = (index: number, fail: boolean) => {
            done.add(index);
            if (fail) {
              failed.add(index);
              port.groups[index]?.fail(new FoundationError('FND_STORAGE_UNAVAILABLE'));
            } else port.groups[index]?.release();
          };
          for (const s of steps) {
            if (s.kind === 'submit') {
              const name = `r${submitted.length}`;
              submitted.push(`${name}-0`);
              const stream = s.stream === null ? null : `s${s.stream}`;
              calls.set(`${name}-0`, track(gc.submit(request(name, 1, stream))));
            } else if (s.kind === 'release') {
              const open = port.groups.map((_, i) => i).filter((i) => !done.has(i));
              const index = open[s.pick % Math.max(open.length, 1)];
              if (index !== undefined) release(index, s.fail);
            }
            await flush();
            check();
          }
          for (
            let guard = 0;
            guard < 100 && !(port.groups.length === done.size && gc.queued === 0);
            guard++
          ) {
            for (let i = 0; i < port.groups.length; i++) if (!done.has(i)) release(i, false);
            await flush();
            check();
          }
          expect(port.groups.flatMap(ids)).toEqual(submitted);
          expect([...calls.values()].every((c) => c.settled)).toBe(true);
          await gc.idle();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('classifyStoreError keeps foundation errors and wraps others', () => {
    const known = new FoundationError('FND_STORAGE_UNAVAILABLE');
    expect(classifyStoreError(known)).toBe(known);
    expect(classifyStoreError('text')).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', cause: 'text' });
  });
});
