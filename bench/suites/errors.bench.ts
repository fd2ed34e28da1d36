/**
 * Errors: creating a `FoundationError` (catalog lookup, context stamping, stack capture) against a plain
 * `new Error`, outside and inside a correlation context.
 *
 * @module
 */
import {
  createContext,
  FoundationError,
  runInContext,
  type FoundationContext,
} from '../../src/errors/index.js';
import { defineSuite, impl } from '../suite.js';

const inContext = (ctx: FoundationContext, body: () => number): number => runInContext(ctx, body);

export default defineSuite({
  name: 'errors',
  cases: [
    {
      name: 'new error',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          fn: () => new FoundationError('FND_DATA_INVALID_INPUT', { context: { a: 1 } }),
        }),
        impl({ impl: 'error', role: 'baseline', fn: () => new Error('x') }),
      ],
    },
    {
      name: 'new error in a context',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          setup: () => createContext({ operation: 'x' }),
          around: inContext,
          fn: () => new FoundationError('FND_DATA_INVALID_INPUT', { context: { a: 1 } }),
        }),
        impl({
          impl: 'error',
          role: 'baseline',
          setup: () => createContext({ operation: 'x' }),
          around: inContext,
          fn: () => new Error('x'),
        }),
      ],
    },
  ],
});
