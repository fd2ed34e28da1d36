/**
 * The `FoundationError` a promise rejects with, for tests that check a refusal's code and context. Fails the
 * test when the promise fulfils, and rethrows any rejection that is not a `FoundationError`.
 *
 * @module
 */
import { FoundationError } from '../../src/errors/index.js';

/** Awaits `pending` and returns its `FoundationError` rejection; throws when it fulfils or rejects otherwise. */
export async function refusal(pending: Promise<unknown>): Promise<FoundationError> {
  try {
    await pending;
  } catch (error) {
    if (error instanceof FoundationError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
