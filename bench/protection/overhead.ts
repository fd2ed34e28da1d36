/**
 * The added-overhead ratio of the protection suite: what a policy adds to a bare `await fn()`, ours against
 * each peer's, `(ours − bare) / (peer − bare)`. The plain ratio (ours ÷ peer) hides a policy's cost behind
 * the cost of the awaited call itself; issue 7's breaker target is on the added overhead.
 *
 * @module
 */
import type { ImplResult } from '../harness.js';

/** One added-overhead figure: ours' and a peer's ns/op above the baseline, and their ratio. */
export interface AddedOverhead {
  readonly ours: string;
  readonly peer: string;
  readonly oursAddedNs: number;
  readonly peerAddedNs: number;
  /** `oursAddedNs / peerAddedNs`; `NaN` when the peer adds nothing measurable. */
  readonly ratio: number;
}

/**
 * The added overhead of every `ours` row against every `peer` row, above the case's `baseline` row (the
 * first one); empty when the case has no baseline.
 */
export function addedOverheads(results: readonly ImplResult[]): AddedOverhead[] {
  const baseline = results.find((row) => row.role === 'baseline');
  if (baseline === undefined) return [];
  const out: AddedOverhead[] = [];
  for (const ours of results.filter((row) => row.role === 'ours')) {
    for (const peer of results.filter((row) => row.role === 'peer')) {
      const oursAddedNs = ours.nsPerOp - baseline.nsPerOp;
      const peerAddedNs = peer.nsPerOp - baseline.nsPerOp;
      out.push({
        ours: ours.impl,
        peer: peer.impl,
        oursAddedNs,
        peerAddedNs,
        ratio: peerAddedNs > 0 ? oursAddedNs / peerAddedNs : Number.NaN,
      });
    }
  }
  return out;
}

function ns(value: number): string {
  return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
}

/** The notes line of a case: `added over <baseline> (<ns> ns): ours +x ns vs cockatiel +y ns = 0.20×; …`. */
export function formatAddedOverheads(results: readonly ImplResult[]): string {
  const baseline = results.find((row) => row.role === 'baseline');
  const figures = addedOverheads(results);
  if (baseline === undefined || figures.length === 0) return '';
  const parts = figures.map(
    (f) =>
      `${f.ours} +${ns(f.oursAddedNs)} ns vs ${f.peer} +${ns(f.peerAddedNs)} ns = ${f.ratio.toFixed(3)}×`,
  );
  return `added over ${baseline.impl} (${ns(baseline.nsPerOp)} ns/op): ${parts.join('; ')}`;
}
