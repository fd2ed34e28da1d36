/**
 * Vitest config for the harness's own unit tests (`npx vitest run --config bench/vitest.config.ts`); the
 * root config only collects `src/` and `test/`.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Collects `bench/**\/*.test.ts` with the repository as root. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/**/*.test.ts'],
  },
});
