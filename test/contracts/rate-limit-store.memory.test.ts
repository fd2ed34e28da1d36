/**
 * The rate limit store contract on the memory store (system clock, as the shared stores use their servers').
 */
import { MemoryRateLimitStore } from '../../src/protection/rate-limit/memory-store.js';
import { rateLimitStoreContract } from './rate-limit-store.contract.js';

rateLimitStoreContract('memory', () => {
  const store = new MemoryRateLimitStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});
