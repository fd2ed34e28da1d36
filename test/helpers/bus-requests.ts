/**
 * Test helpers: requests to a control bus (GET, or POST with its bearer token and a JSON body) and the check
 * that a refused request answered with a problem and changed nothing.
 *
 * @module
 */
import { expect } from 'vitest';
import { expectProblem } from './problem-assertions.js';

/** Requests to one control bus (see {@link busRequests}). */
export interface BusRequests {
  /** `fetch` of `path` relative to the bus URL. */
  readonly call: (path: string, init?: RequestInit) => Promise<Response>;
  /**
   * POST of `path` with `authorization: Bearer <token>` and, when there is a `body`, `content-type:
   * application/json`; `headers` override both (`authorization: ''` sends no usable token).
   */
  readonly post: (path: string, body?: string, headers?: Record<string, string>) => Promise<Response>;
  /** GET of `path`: expects status 200 and returns the parsed JSON body. */
  readonly json: (path: string) => Promise<unknown>;
}

/**
 * Requests to the bus whose URL `url()` returns when a request is made (the bus may start after the
 * helpers are made), POSTing with `token`.
 */
export function busRequests(url: () => string, token: string): BusRequests {
  const call = (path: string, init: RequestInit = {}): Promise<Response> => fetch(new URL(path, url()), init);
  return {
    call,
    post: (path, body, headers = {}) =>
      call(path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body }),
      }),
    json: async (path) => {
      const response = await call(path);
      expect(response.status).toBe(200);
      return (await response.json()) as unknown;
    },
  };
}

/**
 * Takes `snapshot()`, runs `request`, expects a problem with `status` and `code` ({@link expectProblem}), and
 * expects `snapshot()` to equal the one taken before.
 */
export async function expectRefusedWithoutChange(
  request: () => Promise<Response>,
  status: number,
  code: string,
  snapshot: () => Promise<unknown>,
): Promise<void> {
  const before = await snapshot();
  await expectProblem(await request(), status, code);
  expect(await snapshot()).toEqual(before);
}
