/**
 * Context: the cost of running a function in a correlation context (`withContext` creates a child context,
 * `runInContext` enters an existing one) against calling it bare, and of reading the correlation id inside
 * a context against reading a plain variable.
 *
 * @module
 */
import {
  createContext,
  currentCorrelationId,
  runInContext,
  withContext,
  type FoundationContext,
} from '../../src/errors/index.js';
import { defineSuite, impl } from '../suite.js';

/** The function run in (or outside) a context: small, returns its input so the result is used. */
function work(i: number): number {
  return i + 1;
}

const bareCall = impl({ impl: 'bare-call', role: 'baseline', fn: (_state, i) => work(i) });

export default defineSuite({
  name: 'context',
  cases: [
    {
      name: 'withContext(fn)',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          fn: (_state, i) => withContext({ operation: 'x' }, () => work(i)),
        }),
        bareCall,
      ],
    },
    {
      name: 'runInContext(ctx, fn)',
      impls: [
        impl({
          impl: 'ours',
          role: 'ours',
          setup: () => createContext({ operation: 'x' }),
          fn: (ctx, i) => runInContext(ctx, () => work(i)),
        }),
        bareCall,
      ],
    },
    {
      name: 'currentCorrelationId() in a context',
      impls: [
        impl<FoundationContext>({
          impl: 'ours',
          role: 'ours',
          setup: () => createContext({ operation: 'x' }),
          around: (ctx, body) => runInContext(ctx, body),
          fn: () => currentCorrelationId(),
        }),
        impl({
          impl: 'variable-read',
          role: 'baseline',
          setup: () => ({ correlationId: createContext().correlationId }),
          fn: (state) => state.correlationId,
        }),
      ],
    },
  ],
});
