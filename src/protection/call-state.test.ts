import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { CallState, type PipelineRuntime } from './call-state.js';
import { CoarseTimer } from './coarse-timer.js';

function runtime(clock = new FakeClock()): PipelineRuntime {
  return { policy: 'p', clock, timer: new CoarseTimer(clock) };
}

function state(deadline?: number): CallState {
  return new CallState(runtime(), () => 1, undefined, 1, deadline);
}

describe('CallState', () => {
  it('aborts without a signal until someone reads it', () => {
    const call = state();
    const reason = new Error('stop');
    call.abort(reason);
    expect(call.aborted).toBe(true);
    expect(call.reason).toBe(reason);
    // Read after the abort: born aborted with the same reason.
    expect(call.signal.aborted).toBe(true);
    expect(call.signal.reason).toBe(reason);
  });

  it('aborts a signal that was read, first reason wins', () => {
    const call = state();
    const signal = call.signal;
    expect(signal.aborted).toBe(false);
    expect(call.signal).toBe(signal);
    const first = new Error('first');
    call.abort(first);
    call.abort(new Error('second'));
    expect(signal.reason).toBe(first);
    expect(call.reason).toBe(first);
  });

  it('reaches children and their read signals; children of an aborted state are born aborted', () => {
    const call = state(123);
    const a = call.child(1);
    const b = call.child(2);
    const signalB = b.signal;
    expect(a.deadline).toBe(123);
    expect(b.attempt).toBe(2);
    expect(a.parent).toBe(call);
    const reason = new Error('deadline');
    call.abort(reason);
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe(reason);
    expect(signalB.aborted).toBe(true);
    const late = call.child(3);
    expect(late.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
  });

  it('aborting a child leaves its parent and siblings alone', () => {
    const call = state();
    const a = call.child(1);
    const b = call.child(2);
    a.abort(new Error('timeout'));
    expect(call.aborted).toBe(false);
    expect(b.aborted).toBe(false);
  });

  it('a released child no longer receives the abort', () => {
    const call = state();
    const a = call.child(1);
    call.release(a);
    call.release(a);
    call.abort(new Error('x'));
    expect(a.aborted).toBe(false);
  });

  it('remaining() counts down to the deadline, Infinity without one', () => {
    const clock = new FakeClock();
    const call = new CallState(runtime(clock), () => 1, undefined, 1, clock.now() + 100);
    expect(call.remaining()).toBe(100);
    clock.advance(40);
    expect(call.remaining()).toBe(60);
    expect(state().remaining()).toBe(Number.POSITIVE_INFINITY);
  });
});
