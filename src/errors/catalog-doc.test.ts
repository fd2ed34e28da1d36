import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CATEGORIES, ERROR_CODES, isErrorCode, type ErrorCategory } from './catalog.js';

const DOC_URL = new URL('../../docs/errors.md', import.meta.url);

interface DocRow {
  code: string;
  numeric: number;
  category: string;
  subcategory: string;
  severity: string;
  retry: string;
  httpStatus: number;
  message: string;
}

/** Splits a markdown table row on unescaped pipes and unescapes `\|` and `\\`. */
function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (ch === '\\' && i + 1 < line.length) {
      cell += line.charAt(i + 1);
      i++;
    } else if (ch === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell.trim());
  // a row starts and ends with a pipe: drop the empty outer cells
  return cells.slice(1, -1);
}

function parseDoc(text: string): DocRow[] {
  const rows: DocRow[] = [];
  for (const line of text.split('\n')) {
    if (!/^\|\s*`FND_/.test(line)) continue;
    const cells = splitRow(line);
    expect(cells, `row must have 7 cells: ${line}`).toHaveLength(7);
    const [code, numeric, catSub, severity, retry, status, message] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const [category = '', subcategory = ''] = catSub.split('/');
    rows.push({
      code: code.replaceAll('`', ''),
      numeric: Number(numeric),
      category,
      subcategory,
      severity,
      retry,
      httpStatus: Number(status),
      message,
    });
  }
  return rows;
}

/** Subcategory digits, from the comment on ERROR_CATALOG. Add a subcategory here when the catalog gains one. */
const SUBCATEGORY_DIGITS: Record<ErrorCategory, Record<string, number>> = {
  config: { structure: 1, validation: 2, access: 3, runtime: 4 },
  system: { initialization: 1, resources: 2, dependencies: 3, runtime: 4, discovery: 5, lifecycle: 6 },
  data: { serialization: 1, validation: 2, corruption: 3, not_found: 4, conflict: 5 },
  external: { network: 1, service: 2, timeout: 3, auth: 4 },
  unknown: { unknown: 9 },
};

describe('docs/errors.md', () => {
  const rows = parseDoc(readFileSync(DOC_URL, 'utf8'));
  const byCode = new Map(rows.map((r) => [r.code, r]));

  it('has exactly one row per catalog entry', () => {
    expect(rows.length).toBeGreaterThan(0);
    const missing = ERROR_CODES.filter((c) => !byCode.has(c));
    expect(missing, 'codes missing from docs/errors.md (run `npx tsx scripts/gen-errors-doc.ts`)').toEqual(
      [],
    );
    const unknown = rows.map((r) => r.code).filter((c) => !isErrorCode(c));
    expect(unknown, 'codes documented but not in ERROR_CATALOG').toEqual([]);
    const seen = new Set<string>();
    const duplicated = rows.map((r) => r.code).filter((c) => (seen.has(c) ? true : (seen.add(c), false)));
    expect(duplicated, 'codes documented twice').toEqual([]);
  });

  it('agrees with the catalog on every column', () => {
    const disagreements: string[] = [];
    for (const code of ERROR_CODES) {
      const row = byCode.get(code);
      if (row === undefined) continue; // reported by the previous test
      const e = ERROR_CATALOG[code];
      const expected = {
        numeric: e.numeric,
        category: e.category,
        subcategory: e.subcategory,
        severity: e.severity,
        retry: e.retry,
        httpStatus: e.httpStatus,
        message: e.message,
      };
      for (const [key, value] of Object.entries(expected)) {
        const actual = row[key as keyof DocRow];
        if (actual !== value)
          disagreements.push(`${code}.${key}: doc ${String(actual)} ≠ catalog ${String(value)}`);
      }
    }
    expect(disagreements).toEqual([]);
  });
});

describe('ERROR_CATALOG', () => {
  it('has unique numeric codes', () => {
    const seen = new Map<number, string>();
    const clashes: string[] = [];
    for (const code of ERROR_CODES) {
      const n = ERROR_CATALOG[code].numeric;
      const other = seen.get(n);
      if (other !== undefined) clashes.push(`${n}: ${other} and ${code}`);
      seen.set(n, code);
    }
    expect(clashes).toEqual([]);
  });

  it('has string codes shaped FND_<AREA>_<REASON> (FND_UNKNOWN is the one catch-all)', () => {
    const bad = ERROR_CODES.filter((c) => c !== 'FND_UNKNOWN' && !/^FND_[A-Z]+_[A-Z_]+$/.test(c));
    expect(bad).toEqual([]);
    expect(ERROR_CATALOG.FND_UNKNOWN.numeric).toBe(9999);
  });

  it('has numeric codes consistent with category and subcategory digits', () => {
    const bad: string[] = [];
    for (const code of ERROR_CODES) {
      const e = ERROR_CATALOG[code];
      if (e.category === 'unknown') {
        if (e.numeric !== 9999) bad.push(`${code}: unknown category must be 9999`);
        continue;
      }
      if (!Number.isInteger(e.numeric) || e.numeric < 1000 || e.numeric > 9998) {
        bad.push(`${code}: ${e.numeric} is not a four-digit code`);
        continue;
      }
      if (Math.floor(e.numeric / 1000) !== ERROR_CATEGORIES[e.category]) {
        bad.push(
          `${code}: ${e.numeric} does not start with the ${e.category} digit ${ERROR_CATEGORIES[e.category]}`,
        );
      }
      const sub = SUBCATEGORY_DIGITS[e.category][e.subcategory];
      if (sub === undefined)
        bad.push(`${code}: subcategory ${e.subcategory} has no digit (add it to the table)`);
      else if (Math.floor(e.numeric / 100) % 10 !== sub) {
        bad.push(`${code}: ${e.numeric} does not carry the ${e.subcategory} digit ${sub}`);
      }
      if (e.numeric % 100 === 0) bad.push(`${code}: the entry number n starts at 1`);
    }
    expect(bad).toEqual([]);
  });

  it('has a non-empty message and a status for every entry', () => {
    for (const code of ERROR_CODES) {
      const e = ERROR_CATALOG[code];
      expect(e.message.trim().length, code).toBeGreaterThan(0);
      expect(Number.isInteger(e.httpStatus), code).toBe(true);
    }
  });
});
