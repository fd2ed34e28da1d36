/**
 * Helpers for tests that check what an operation threw.
 *
 * @module
 */

/**
 * Runs `fn` and returns what it threw. Throws if `fn` returned normally, so a test that expects a failure
 * cannot pass by accident.
 *
 * @example
 * ```ts
 * const error = thrown(() => registry.get('app', 'missing'));
 * expect(error).toMatchObject({ code: 'FND_REGISTRY_NOT_FOUND' });
 * ```
 */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the function to throw, but it returned');
}

/** Awaits `promise` and returns its rejection reason. Throws if it fulfilled. */
export async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it fulfilled');
}
