/**
 * The peers of the `config` suite, loaded with the same content as ours: node-config (`config` 5.x) and
 * convict 6.x, plus a plain JSON object (the floor of a read).
 *
 * node-config is a process-wide singleton configured from the environment and its config directory when
 * it is first imported. {@link loadNodeConfig} imports it only when a case's setup asks for it (never when
 * another suite runs), points it at an empty temp directory, hands it the content through `NODE_CONFIG`,
 * and restores the environment right after, so nothing leaks into the suites run after this one.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import convict from 'convict';
import type { JsonObject, JsonValue } from '../../src/config/index.js';

/** What the suite uses of node-config's singleton. */
export interface NodeConfig {
  get(path: string): unknown;
}

/** What the suite uses of a convict instance. */
export interface ConvictConfig {
  get(path: string): unknown;
}

/** The environment variables node-config reads at import; set for the import, restored after it. */
const NODE_CONFIG_VARIABLES = [
  'NODE_CONFIG',
  'NODE_CONFIG_DIR',
  'SUPPRESS_NO_CONFIG_WARNING',
  'SUPPRESS_STRICTNESS_CHECK',
] as const;

/**
 * node-config holding `content` (and nothing else: its config directory is an empty temp dir). The module
 * is imported on the first call (a synchronous `require`, so a case's synchronous setup can call it) and
 * cached by Node afterwards; every call checks that the singleton holds `content`, and throws if it was
 * loaded with something else.
 */
export function loadNodeConfig(content: JsonObject, checkPaths: readonly string[]): NodeConfig {
  const saved = NODE_CONFIG_VARIABLES.map((name) => [name, process.env[name]] as const);
  const dir = mkdtempSync(join(tmpdir(), 'bench-node-config-'));
  let config: NodeConfig;
  try {
    process.env.NODE_CONFIG_DIR = dir;
    process.env.NODE_CONFIG = JSON.stringify(content);
    process.env.SUPPRESS_NO_CONFIG_WARNING = 'true';
    // No deployment file matches NODE_ENV (`test` under vitest) in the empty directory: nothing to warn about.
    process.env.SUPPRESS_STRICTNESS_CHECK = 'true';
    config = createRequire(import.meta.url)('config') as NodeConfig;
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  checkSame('node-config', config, content, checkPaths);
  return config;
}

/** A convict format for a JSON value of the content (what a hand-written convict schema would declare). */
function formatOf(value: JsonValue): convict.SchemaObj['format'] {
  if (Array.isArray(value)) return Array;
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : Number;
  if (typeof value === 'boolean') return Boolean;
  return String;
}

/** A convict schema whose defaults are `content`: one `{ format, default }` per leaf. */
function convictSchema(content: JsonObject): Record<string, unknown> {
  const schema: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(content)) {
    schema[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? convictSchema(value as JsonObject)
        : { doc: key, format: formatOf(value), default: value };
  }
  return schema;
}

/** A convict instance holding `content`, validated strictly, as an application would load it. */
export function loadConvict(content: JsonObject, checkPaths: readonly string[]): ConvictConfig {
  const config = convict(convictSchema(content) as Parameters<typeof convict>[0]).validate({
    allowed: 'strict',
  }) as unknown as ConvictConfig;
  checkSame('convict', config, content, checkPaths);
  return config;
}

/** A mutable deep copy of `content`: the plain-object floor. */
export function plainObject<T>(content: T): T {
  return JSON.parse(JSON.stringify(content)) as T;
}

/** The value at a dotted path of plain JSON. */
export function valueAt(content: JsonValue, path: string): unknown {
  let node: unknown = content;
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key];
  return node;
}

function checkSame(
  name: string,
  peer: { get(path: string): unknown },
  content: JsonObject,
  paths: readonly string[],
) {
  for (const path of paths) {
    if (!isDeepStrictEqual(plainObject(peer.get(path)), valueAt(content, path))) {
      throw new Error(`${name} does not hold the benchmark's configuration at "${path}"`);
    }
  }
}
