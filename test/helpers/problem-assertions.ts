/**
 * Test helpers: assertions shared by control-bus tests (problem+json bodies, an unaffected foundation).
 *
 * @module
 */
import { expect } from 'vitest';
import { BUILT_IN_SERVICES, type RunningControlBus } from './control-bus.js';

/** A parsed problem+json body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  correlationId: string;
  [extension: string]: unknown;
}

/**
 * Asserts `response` is a problem+json with `status` and `code`, whose `correlationId` equals the
 * `x-correlation-id` header and whose text has no stack trace; returns the parsed body.
 */
export async function expectProblem(response: Response, status: number, code: string): Promise<Problem> {
  const text = await response.text();
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  expect(text).not.toMatch(/"stack"/);
  expect(text).not.toMatch(/\bat [^\s]+ \(.*:\d+:\d+\)/);
  expect(text).not.toMatch(/node_modules|\.ts:\d+|\.js:\d+/);
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ status, code });
  expect(typeof body.title).toBe('string');
  expect(body.title.length).toBeGreaterThan(0);
  expect(typeof body.detail).toBe('string');
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.type).toBe(`urn:elixirscope:foundation:error:${code}`);
  expect(body.correlationId).toBe(response.headers.get('x-correlation-id'));
  return body;
}

interface StatusBody {
  state: string;
  services: Array<{ name: string; state: string }>;
}

/**
 * Asserts the foundation still runs exactly `names` plus its built-in `storage` and `events` services
 * (sorted comparison), all `running`, via the API.
 */
export async function expectServicesRunning(
  running: RunningControlBus,
  names: readonly string[],
): Promise<void> {
  const response = await running.fetch('/api/status');
  expect(response.status).toBe(200);
  const status = (await response.json()) as StatusBody;
  expect(status.state).toBe('running');
  expect(status.services.map((s) => s.name).sort()).toEqual([...BUILT_IN_SERVICES, ...names].sort());
  expect(status.services.every((s) => s.state === 'running')).toBe(true);
}
