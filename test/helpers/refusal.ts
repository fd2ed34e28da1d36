/**
 * The `FoundationError` an operation failed with, for tests that check a refusal's code and context: the
 * typed forms of `rejection` and `thrown` from `src/testing/capture.ts`. Each fails the test when the
 * operation succeeds, and rethrows a failure that is not a `FoundationError`.
 *
 * @module
 */
import { FoundationError } from '../../src/errors/index.js';
import { rejection, thrown } from '../../src/testing/capture.js';

function foundationError(error: unknown): FoundationError {
  if (error instanceof FoundationError) return error;
  throw error;
}

/** Awaits `pending` and returns its `FoundationError` rejection; throws when it fulfils or rejects otherwise. */
export async function refusal(pending: PromiseLike<unknown>): Promise<FoundationError> {
  return foundationError(await rejection(pending));
}

/** Runs `fn` and returns the `FoundationError` it threw; throws when it returns or throws something else. */
export function refusalOf(fn: () => unknown): FoundationError {
  return foundationError(thrown(fn));
}
