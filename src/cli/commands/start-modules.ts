/**
 * The user's ES modules that `foundation start` loads: the projections module (`--projections`) and the
 * config schema module (`--schema`), each checked for the exports the command needs.
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { FoundationError } from '../../errors/index.js';
import type { ProjectionDefinition } from '../../events/projections/types.js';

/** What a schema module exports: `schema` (or a default export), and optionally `mutable` and `secrets`. */
export interface SchemaModule {
  readonly schema: StandardSchemaV1;
  readonly mutable: readonly string[];
  readonly secrets: readonly string[];
}

function stringList(module: Record<string, unknown>, key: string, path: string): readonly string[] {
  const value = module[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
      message: `The schema module ${path} exports "${key}" that is not an array of path patterns`,
      context: { module: path, export: key },
    });
  }
  return value;
}

/**
 * The ES module at `path` (a user's file named on the command line), or `FND_SYSTEM_INITIALIZATION_FAILED`
 * naming it as the `what` module with the first line of the loader's error.
 */
async function importUserModule(path: string, what: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new FoundationError('FND_SYSTEM_INITIALIZATION_FAILED', {
      message: `Cannot load the ${what} module ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      context: { module: path },
      cause: error,
    });
  }
}

/**
 * Loads the schema module at `path`. Throws `FND_SYSTEM_INITIALIZATION_FAILED` when it cannot be loaded,
 * `FND_CONFIG_INVALID_STRUCTURE` when it exports no Standard Schema.
 */
export async function loadSchemaModule(path: string): Promise<SchemaModule> {
  const module = await importUserModule(path, 'schema');
  const schema = module.schema ?? module.default;
  if (typeof schema !== 'object' || schema === null || !('~standard' in schema)) {
    throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
      message: `The schema module ${path} must export "schema" (or a default export): a Standard Schema such as a zod object`,
      context: { module: path },
    });
  }
  return {
    schema: schema as StandardSchemaV1,
    mutable: stringList(module, 'mutable', path),
    secrets: stringList(module, 'secrets', path),
  };
}

/**
 * The projection definitions exported by the ES module at `path`: its `projections` export, else its default
 * export, an array. Throws `FND_SYSTEM_INITIALIZATION_FAILED` when it cannot be loaded or exports no array.
 */
export async function loadProjections(path: string): Promise<ProjectionDefinition[]> {
  const module = await importUserModule(path, 'projections');
  const definitions = module.projections ?? module.default;
  if (!Array.isArray(definitions)) {
    throw new FoundationError('FND_SYSTEM_INITIALIZATION_FAILED', {
      message: `The projections module ${path} must export "projections" (or a default export): an array of projection definitions`,
      context: { module: path },
    });
  }
  return definitions as ProjectionDefinition[];
}
