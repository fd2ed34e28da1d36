/**
 * Validation of a whole configuration with a Standard Schema validator (zod 4, valibot, arktype…), and the
 * error a refused configuration becomes (with secret paths' messages hidden).
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { FoundationError } from '../../errors/index.js';
import type { ConfigIssue } from '../types.js';
import type { Redactor } from './redact.js';

/** The result of {@link validateSchema}. */
export type SchemaResult = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

/** Most issues an {@link invalidConfigError} carries in its context. */
export const MAX_REPORTED_ISSUES = 20;

function segmentName(segment: PropertyKey | StandardSchemaV1.PathSegment): string {
  const key = typeof segment === 'object' ? segment.key : segment;
  return typeof key === 'symbol' ? (key.description ?? '') : String(key);
}

/** The dotted path of a Standard Schema issue (`''` for the root). */
export function issuePath(issue: StandardSchemaV1.Issue): string {
  return issue.path === undefined ? '' : issue.path.map(segmentName).join('.');
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Validates `value` with `schema` synchronously: its output value, or its issues with dotted paths. A
 * validator that throws gives one issue at the root with the thrown message.
 *
 * @throws FoundationError `FND_CONFIG_INVALID_STRUCTURE` when the schema validates asynchronously.
 */
export function validateSchema(schema: StandardSchemaV1, value: unknown): SchemaResult {
  let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
  try {
    result = schema['~standard'].validate(value);
  } catch (error) {
    const message = error instanceof Error ? error.message : 'the validator threw';
    return { ok: false, issues: [{ path: '', message }] };
  }
  if (isThenable(result)) {
    result.then(undefined, () => undefined);
    throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
      message: 'The configuration schema must validate synchronously',
      context: { vendor: schema['~standard'].vendor },
    });
  }
  if (result.issues !== undefined) {
    return {
      ok: false,
      issues: result.issues.map((issue) => ({ path: issuePath(issue), message: issue.message })),
    };
  }
  return { ok: true, value: result.value };
}

/**
 * The `FND_CONFIG_INVALID_VALUE` error for `issues`: message `Configuration is invalid: <path>: <message>`
 * (the first issue, plus ` (and N more)`; `message` replaces the heading), context `{ issues }` (the first
 * 20). The message of an issue at a secret path becomes `invalid secret value` (validators may echo values).
 */
export function invalidConfigError(
  issues: readonly ConfigIssue[],
  redactor: Redactor,
  message?: string,
): FoundationError {
  const safe = issues.map((issue) =>
    redactor.isSecret(issue.path) ? { path: issue.path, message: 'invalid secret value' } : issue,
  );
  const heading = message ?? 'Configuration is invalid';
  const first = safe[0];
  const text =
    first === undefined
      ? heading
      : `${heading}: ${first.path === '' ? '(root)' : first.path}: ${first.message}` +
        (safe.length > 1 ? ` (and ${safe.length - 1} more)` : '');
  return new FoundationError('FND_CONFIG_INVALID_VALUE', {
    message: text,
    context: {
      issues: safe.slice(0, MAX_REPORTED_ISSUES).map((i) => ({ path: i.path, message: i.message })),
    },
  });
}
