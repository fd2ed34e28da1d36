/**
 * What the multi-process config test and its child processes (`config-child.ts`) share: the schema, the
 * mutable and secret paths, and the command format.
 *
 * @module
 */
import { z } from 'zod';

/** The schema every process of the test shares. */
export const multiProcessSchema = z.object({
  counters: z.record(z.string(), z.number().int().nonnegative()).default({}),
  limits: z
    .object({
      rps: z.number().int().positive().default(100),
      burst: z.number().int().min(0).max(1000).default(10),
    })
    .prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
  db: z.object({ password: z.string().default('hunter2') }).prefault({}),
});

/** The mutable and secret paths every process of the test declares. */
export const multiProcessConfig = {
  schema: multiProcessSchema,
  mutable: ['counters.*', 'limits.*', 'mode', 'db.password'],
  secrets: ['db.password'],
} as const;

/** A command the parent sends. */
export interface ChildCommand {
  readonly id: number;
  readonly op:
    'version' | 'snapshot' | 'get' | 'update' | 'updateBatch' | 'burst' | 'history' | 'observed' | 'stop';
  readonly [key: string]: unknown;
}
