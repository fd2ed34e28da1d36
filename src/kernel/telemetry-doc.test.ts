import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Keeps the "Events published so far" table of docs/telemetry.md in step with the sources: every name the code
 * declares (`telemetryEvent('…')`, `telemetrySpan('…')`, one-off `emit('…')` / `span('…')`) is a row, and every
 * row is a declared name, with the right kind.
 */

const SRC = new URL('..', import.meta.url).pathname;
const DOC = readFileSync(new URL('../../docs/telemetry.md', import.meta.url), 'utf8');
const SECTION = '## Events published so far';

type Kind = 'event' | 'span';

interface Declaration {
  readonly name: string;
  readonly kind: Kind;
  readonly where: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Blanks comment lines (TSDoc examples name made-up events) while keeping line numbers. */
function withoutCommentLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (/^\s*(\*|\/\/|\/\*)/.test(line) ? '' : line))
    .join('\n');
}

/**
 * The local names under which a file can call the kernel's one-off `emit` / `span`: the kernel's own module
 * defines them; other files must import them (possibly renamed) from the kernel.
 */
function oneOffCallees(path: string, text: string): Map<string, Kind> {
  const callees = new Map<string, Kind>();
  if (relative(SRC, path) === join('kernel', 'telemetry.ts')) {
    callees.set('emit', 'event');
    callees.set('span', 'span');
    return callees;
  }
  const inKernel = relative(SRC, path).startsWith(`kernel${sep}`);
  for (const match of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    const from = match[2] ?? '';
    const kernel =
      /(^|\/)kernel\/(telemetry|index)\.js$/.test(from) ||
      (inKernel && /^\.\/(telemetry|index)\.js$/.test(from));
    if (!kernel) continue;
    for (const specifier of (match[1] ?? '').split(',')) {
      const [imported, local] = specifier
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      if (imported === 'emit' || imported === 'span') {
        callees.set(local ?? imported, imported === 'emit' ? 'event' : 'span');
      }
    }
  }
  return callees;
}

/** Every telemetry name declared in src/ (tests excluded), with where it is declared. */
function declaredInSources(): Declaration[] {
  const found: Declaration[] = [];
  const unresolved: string[] = [];
  for (const path of sourceFiles(SRC)) {
    const text = withoutCommentLines(readFileSync(path, 'utf8'));
    const callees = new Map<string, Kind>([
      ['telemetryEvent', 'event'],
      ['telemetrySpan', 'span'],
      ...oneOffCallees(path, text),
    ]);
    const names = [...callees.keys()].join('|');
    const call = new RegExp(
      `(?<![.\\w$#])(${names})\\(\\s*(?:'([^'\\n]*)'|([A-Za-z_$][\\w$]*)\\s*[,)]|(\`))`,
      'g',
    );
    for (const match of text.matchAll(call)) {
      const [, callee, literal, identifier, template] = match;
      const line = text.slice(0, match.index).split('\n').length;
      const where = `${relative(SRC, path)}:${String(line)}`;
      let name = literal;
      if (identifier !== undefined) {
        name = new RegExp(`\\bconst\\s+${identifier}\\s*(?::\\s*string\\s*)?=\\s*'([^'\\n]*)'`).exec(
          text,
        )?.[1];
      }
      if (name === undefined || template !== undefined) {
        unresolved.push(`${where}: ${match[0]}`);
        continue;
      }
      found.push({ name, kind: callees.get(callee as string) as Kind, where });
    }
  }
  // A name the test cannot read must be a string literal or a `const` in the same file.
  expect(unresolved, 'telemetry names that are not a literal nor a same-file const').toEqual([]);
  return found.filter((declaration) => !declaration.name.startsWith('test_kernel:'));
}

/** The channel rows of the "Events published so far" section: channel → kind. */
function documentedRows(): Array<{ name: string; kind: string }> {
  const start = DOC.indexOf(SECTION);
  expect(start, `docs/telemetry.md has a "${SECTION}" section`).toBeGreaterThanOrEqual(0);
  const rest = DOC.slice(start + SECTION.length);
  const next = rest.search(/^#{1,2} /m);
  const section = next === -1 ? rest : rest.slice(0, next);
  return [...section.matchAll(/^\|\s*`foundation:([^`]+)`\s*\|\s*([a-z]+)\s*\|/gm)].map((match) => ({
    name: match[1] as string,
    kind: match[2] as string,
  }));
}

describe('docs/telemetry.md events table', () => {
  const declared = declaredInSources();
  const rows = documentedRows();

  it('finds the declarations it is meant to find (the scanner works)', () => {
    const names = declared.map((declaration) => declaration.name);
    expect(names).toContain('registry:registered');
    expect(names).toContain('config:updated');
    // Published by the kernel through emit(HANDLER_FAILED, …): resolved from the const.
    expect(names).toContain('telemetry:handler_failed');
  });

  it('has one row per channel', () => {
    const names = rows.map((row) => row.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  it('documents every event and span the sources declare, with its kind', () => {
    const documented = new Map(rows.map((row) => [row.name, row.kind]));
    const missing = declared
      .filter((declaration) => documented.get(declaration.name) !== declaration.kind)
      .map(
        (declaration) =>
          `foundation:${declaration.name} (${declaration.kind}, ${declaration.where}) → ${documented.get(declaration.name) ?? 'no row'}`,
      );
    expect(missing).toEqual([]);
  });

  it('documents no channel the sources do not declare', () => {
    const names = new Set(declared.map((declaration) => declaration.name));
    expect(rows.filter((row) => !names.has(row.name)).map((row) => `foundation:${row.name}`)).toEqual([]);
  });
});
