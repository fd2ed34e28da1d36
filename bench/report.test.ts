import { describe, expect, it } from 'vitest';
import type { CaseResult } from './harness.js';
import { formatMarkdown, formatNotes, formatTable, jsonRows, ratios } from './report.js';

const result: CaseResult = {
  case: 'lookup',
  results: [
    { impl: 'ours', role: 'ours', nsPerOp: 30, opsPerSec: 1e9 / 30, spread: 0.05, rounds: 20, batch: 1000 },
    { impl: 'map', role: 'peer', nsPerOp: 20, opsPerSec: 1e9 / 20, spread: 0.01, rounds: 20, batch: 1000 },
    {
      impl: 'nested-map',
      role: 'peer',
      nsPerOp: 60,
      opsPerSec: 1e9 / 60,
      spread: 0.02,
      rounds: 20,
      batch: 1000,
    },
  ],
};

describe('ratios', () => {
  it('divides our ns/op by each other implementation, in order', () => {
    expect(ratios(result, result.results[0]!)).toEqual([
      { impl: 'map', ratio: 1.5 },
      { impl: 'nested-map', ratio: 0.5 },
    ]);
  });
});

describe('jsonRows', () => {
  it('puts ratio and vs (the first peer) on our row only', () => {
    expect(jsonRows('registry', result)).toEqual([
      {
        suite: 'registry',
        case: 'lookup',
        impl: 'ours',
        opsPerSec: 33333333,
        nsPerOp: 30,
        ratio: 1.5,
        vs: 'map',
      },
      { suite: 'registry', case: 'lookup', impl: 'map', opsPerSec: 50000000, nsPerOp: 20 },
      { suite: 'registry', case: 'lookup', impl: 'nested-map', opsPerSec: 16666667, nsPerOp: 60 },
    ]);
  });

  it('has no ratio when no other implementation ran', () => {
    const alone: CaseResult = { case: 'alone', results: [result.results[0]!] };
    expect(jsonRows('s', alone)).toEqual([
      { suite: 's', case: 'alone', impl: 'ours', opsPerSec: 33333333, nsPerOp: 30 },
    ]);
  });
});

describe('formatTable', () => {
  it('aligns columns and lists one ratio per peer on our row', () => {
    const lines = formatTable('registry', [result]).split('\n');
    expect(lines.slice(0, 2)).toEqual(['## registry', '']);
    expect(lines[2]).toMatch(/^case\s+impl\s+ops\/s\s+ns\/op\s+±\s+rounds\s+ratio$/);
    expect(lines[4]).toContain('1.50 vs map, 0.50 vs nested-map');
    expect(lines[4]).toMatch(/^lookup\s+ours\s+33,333,333\s+30\.0\s+5\.0%\s+20/);
    // Right-aligned numeric columns end at the same offset on every row.
    const ends = lines.slice(4).map((line) => line.indexOf('%'));
    expect(new Set(ends).size).toBe(1);
  });
});

describe('formatMarkdown', () => {
  it('renders a markdown table', () => {
    expect(formatMarkdown('registry', [result]).split('\n')).toEqual([
      '### registry',
      '',
      '| case | impl | ops/s | ns/op | ± | rounds | ratio |',
      '| --- | --- | ---: | ---: | ---: | ---: | --- |',
      '| lookup | ours | 33,333,333 | 30.0 | 5.0% | 20 | 1.50 vs map, 0.50 vs nested-map |',
      '|  | map | 50,000,000 | 20.0 | 1.0% | 20 |  |',
      '|  | nested-map | 16,666,667 | 60.0 | 2.0% | 20 |  |',
    ]);
  });
});

describe('formatNotes', () => {
  const withNotes: CaseResult = { ...result, case: 'by type', notes: 'SEARCH foundation_events USING INDEX' };

  it('prints a heading and the notes of each case that has some', () => {
    expect(formatNotes([result, withNotes], 'table')).toBe(
      '-- by type\nSEARCH foundation_events USING INDEX\n',
    );
  });

  it('fences the notes in markdown', () => {
    expect(formatNotes([withNotes], 'markdown')).toBe(
      '#### by type\n\n```text\nSEARCH foundation_events USING INDEX\n```\n',
    );
  });

  it('is empty when no case has notes', () => {
    expect(formatNotes([result], 'markdown')).toBe('');
  });
});
