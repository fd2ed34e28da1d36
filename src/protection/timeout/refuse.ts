/**
 * A rejection by one of the retry, timeout, deadline, bulkhead and hedge layers, published as
 * `protection:rejected` {count} {policy, layer, code} when someone listens (directly or on the catch-all
 * channel), the metadata built only then.
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { FoundationError } from '../../errors/index.js';
import { CATCH_ALL_CHANNEL, telemetryEvent } from '../../kernel/telemetry.js';
import type { RejectionContext } from '../errors.js';
import type { RejectionCode } from '../types.js';

const rejected = telemetryEvent('protection:rejected');
const catchAll = diagnosticsChannel.channel(CATCH_ALL_CHANNEL);

/** Whether `protection:rejected` has a listener (its own channel or the catch-all one). */
export function rejectionListened(): boolean {
  return rejected.hasSubscribers || catchAll.hasSubscribers;
}

/**
 * Builds the rejection `code` of `context.layer` (with `cause` when given) and publishes `protection:rejected`.
 */
export function refuse(
  code: RejectionCode,
  message: string,
  context: RejectionContext,
  cause?: unknown,
): FoundationError {
  const error =
    cause === undefined
      ? new FoundationError(code, { message, context })
      : new FoundationError(code, { message, context, cause });
  if (rejectionListened())
    rejected.emit({ count: 1 }, { policy: context.policy, layer: context.layer, code });
  return error;
}
