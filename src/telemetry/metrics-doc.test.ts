import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FOUNDATION_METRICS } from './foundation-metrics.js';
import { METRICS_BEGIN_MARKER, METRICS_END_MARKER } from './metrics-doc.js';
import { RUNTIME_METRICS } from './runtime/runtime-metrics.js';

const doc = readFileSync(new URL('../../docs/telemetry.md', import.meta.url), 'utf8');

describe('docs/telemetry.md metrics table', () => {
  it('lists every declared metric exactly once (regenerate with npx tsx scripts/gen-telemetry-doc.ts)', () => {
    const begin = doc.indexOf(METRICS_BEGIN_MARKER);
    const end = doc.indexOf(METRICS_END_MARKER);
    expect(begin).toBeGreaterThan(0);
    const table = doc.slice(begin, end);
    const listed = [...table.matchAll(/^\| `([a-z0-9_.]+)`\s+\|/gm)].map((match) => match[1]);
    const declared = [...FOUNDATION_METRICS, ...RUNTIME_METRICS].map((definition) => definition.name);
    expect(listed).toEqual(declared);
  });
});
