/**
 * The one error the telemetry model throws: `FND_TELEMETRY_INVALID_METRIC` (bad option, bad value).
 *
 * @module
 */
import { FoundationError } from '../../errors/index.js';

/**
 * A `FND_TELEMETRY_INVALID_METRIC` error with `message` and structured `context` (never secret values: the
 * model only sees numbers).
 */
export function invalidMetric(message: string, context: Record<string, unknown> = {}): FoundationError {
  return new FoundationError('FND_TELEMETRY_INVALID_METRIC', { message, context });
}
