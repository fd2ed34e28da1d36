/**
 * An inline projector for event store tests that fails on purpose.
 *
 * @module
 */
import type { InlineProjector } from '../../src/events/projections/inline-hook.js';

/** A projector that throws `thrown` for any request holding an event of type `bad.one`. */
export function throwingProjector(thrown: unknown): InlineProjector {
  return {
    active: true,
    projectSync(events) {
      if (events.some((e) => e.type === 'bad.one')) throw thrown;
    },
    projectGroup() {
      return Promise.resolve([]);
    },
  };
}
