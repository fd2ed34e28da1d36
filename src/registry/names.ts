/**
 * Validation of registry namespaces and service names.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';

/** Longest accepted namespace or service name, in characters. */
export const MAX_REGISTRY_NAME_LENGTH = 128;

/** Accepted shape of a namespace or service name: a letter, then letters, digits, `.`, `_`, `:` or `-`. */
export const REGISTRY_NAME_PATTERN: RegExp = /^[A-Za-z][A-Za-z0-9._:-]*$/;

/**
 * Names that match the pattern but are refused anyway: the properties of `Object.prototype` (`constructor`,
 * `toString`, …) and `prototype`. The registry itself stores names in `Map`s, but names travel on into
 * plain objects (JSON snapshots, the control bus, metric labels) where these would collide.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  'prototype',
]);

/** Which argument a name was given as, reported in the error context. */
export type RegistryNameField = 'namespace' | 'name';

/** Whether `value` is an acceptable namespace or service name. */
export function isValidRegistryName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_REGISTRY_NAME_LENGTH &&
    REGISTRY_NAME_PATTERN.test(value) &&
    !RESERVED_NAMES.has(value)
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 64
      ? `${JSON.stringify(value.slice(0, 64))}… (${value.length} chars)`
      : JSON.stringify(value);
  }
  return value === null ? 'null' : typeof value;
}

/** The `FND_REGISTRY_INVALID_NAME` error for `value` given as `field`. */
export function invalidNameError(field: RegistryNameField, value: unknown): FoundationError {
  const shown = describe(value);
  return new FoundationError('FND_REGISTRY_INVALID_NAME', {
    message:
      `Invalid registry ${field} ${shown}: expected 1–${MAX_REGISTRY_NAME_LENGTH} characters matching ` +
      `${String(REGISTRY_NAME_PATTERN)}, not a reserved name`,
    context: { field, value: shown },
  });
}

/** Throws `FND_REGISTRY_INVALID_NAME` unless both `namespace` and `name` are valid. */
export function assertValidRegistryKey(namespace: unknown, name: unknown): void {
  if (!isValidRegistryName(namespace)) throw invalidNameError('namespace', namespace);
  if (!isValidRegistryName(name)) throw invalidNameError('name', name);
}
