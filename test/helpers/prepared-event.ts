/**
 * Prepared events (what validation hands a store through its port) built by hand for store, spool and
 * comparison tests: one builder, so every test's event carries `dataJson` / `metadataJson` that are exactly
 * the JSON of its `data` / `metadata`, as `prepareEvents` makes them.
 *
 * @module
 */
import type { PreparedEvent } from '../../src/events/model/port.js';

/** The prepared event of `fields`, with `dataJson` and `metadataJson` written from its data and metadata. */
export function preparedOf(fields: Omit<PreparedEvent, 'dataJson' | 'metadataJson'>): PreparedEvent {
  return { ...fields, dataJson: JSON.stringify(fields.data), metadataJson: JSON.stringify(fields.metadata) };
}
