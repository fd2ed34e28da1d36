/**
 * Telemetry (issue 6): a declared event's `emit` and a declared span's `run` with nobody listening (should
 * cost about a bare call: one `hasSubscribers` read; target for `emit` ≤ 20 ns), and `emit` with one
 * subscriber against a raw `diagnostics_channel` publish to one subscriber (ours also builds the message:
 * correlation id, time).
 *
 * Metrics, ours vs prom-client 15.1.3 and the OpenTelemetry SDK 2.x with a reader attached (cases in
 * bench/telemetry/cases.ts): bound counter add (target ≤ 0.2× prom-client's bound child `inc()`), unbound
 * counter add with 2 tags, histogram observe (target ≤ 0.3× prom-client), sliding-window summary observe
 * (target ≤ 0.1× prom-client's Summary), and one Prometheus scrape of 10k series (target: faster than
 * prom-client's `metrics()`).
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { telemetryEvent, telemetrySpan, type Measurements } from '../../src/kernel/telemetry.js';
import { defineSuite, impl } from '../suite.js';
import {
  boundCounterCase,
  boundHistogramCase,
  expositionCase,
  histogramCase,
  summaryCase,
  unboundCounterCase,
} from '../telemetry/cases.js';

/** A do-nothing function standing in for "no telemetry at all". */
const noop: (measurements: Measurements) => void = () => undefined;

function work(i: number): number {
  return i + 1;
}

/** A subscriber that does as little as possible, shared by ours and the raw channel. */
interface Subscribed {
  readonly name: string;
  readonly channel: diagnosticsChannel.Channel;
  readonly listener: (message: unknown) => void;
  received: number;
}

function subscribe(channelName: string): Subscribed {
  const state: Subscribed = {
    name: channelName,
    channel: diagnosticsChannel.channel(channelName),
    listener: () => {
      state.received++;
    },
    received: 0,
  };
  diagnosticsChannel.subscribe(channelName, state.listener);
  return state;
}

function unsubscribe(state: Subscribed): void {
  diagnosticsChannel.unsubscribe(state.name, state.listener);
}

export default defineSuite(({ quick }) => ({
  name: 'telemetry',
  cases: [
    {
      name: 'emit, no subscriber',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          setup: () => telemetryEvent('bench:x'),
          fn: (event) => {
            event.emit({ n: 1 });
          },
        }),
        impl({
          impl: 'noop-call',
          role: 'baseline',
          fn: () => {
            noop({ n: 1 });
          },
        }),
      ],
    },
    {
      name: 'emit, one subscriber',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          setup: () => ({
            event: telemetryEvent('bench:x_subscribed'),
            sub: subscribe('foundation:bench:x_subscribed'),
          }),
          fn: ({ event }) => {
            event.emit({ n: 1 });
          },
          teardown: ({ sub }) => {
            unsubscribe(sub);
          },
        }),
        impl({
          impl: 'diagnostics_channel',
          role: 'peer',
          setup: () => subscribe('bench:raw_subscribed'),
          fn: (sub) => {
            sub.channel.publish({ n: 1 });
          },
          teardown: unsubscribe,
        }),
      ],
    },
    {
      name: 'span.run, no subscriber',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          setup: () => telemetrySpan('bench:y'),
          fn: (span, i) => span.run({}, () => work(i)),
        }),
        impl({ impl: 'bare-call', role: 'baseline', fn: (_state, i) => work(i) }),
      ],
    },
    boundCounterCase(),
    unboundCounterCase(),
    histogramCase(),
    boundHistogramCase(),
    summaryCase(),
    expositionCase(quick),
  ],
}));
