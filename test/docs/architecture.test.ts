/**
 * docs/architecture.md matches the code: every folder path it names in backticks (`src/events/`) exists, and
 * every folder directly under `src/` and every folder one level below those (`src/protection/breaker/`,
 * `src/server/public/`) is named in it. Deeper folders may be named, and are then checked to exist.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = join(ROOT, 'docs', 'architecture.md');

/** Folder paths named in backticks: `src/…/` (ending with a slash). */
function namedFolders(doc: string): string[] {
  return [...new Set([...doc.matchAll(/`(src\/[A-Za-z0-9_./-]*\/)`/g)].map((m) => m[1] as string))].sort();
}

/** `src/<a>/` and `src/<a>/<b>/` for every folder at those depths under `root`. */
function requiredFolders(root: string): string[] {
  const folders: string[] = [];
  const children = (relative: string): string[] =>
    readdirSync(join(root, relative), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${relative}${entry.name}/`);
  for (const first of children('src/')) {
    folders.push(first, ...children(first));
  }
  return folders.sort();
}

function isFolder(root: string, relative: string): boolean {
  try {
    return statSync(join(root, relative)).isDirectory();
  } catch {
    return false;
  }
}

/** What is wrong between a doc and a tree: folders named but absent, folders present but not named. */
function compare(doc: string, root: string): { absent: string[]; undocumented: string[] } {
  const named = namedFolders(doc);
  return {
    absent: named.filter((folder) => !isFolder(root, folder)),
    undocumented: requiredFolders(root).filter((folder) => !named.includes(folder)),
  };
}

describe('docs/architecture.md', () => {
  it('names only folders that exist, and names every folder of src/ and one level below', async () => {
    const doc = await readFile(DOC, 'utf8');
    expect(compare(doc, ROOT)).toEqual({ absent: [], undocumented: [] });
    // The check is not vacuous: the capability folders and their sub-folders are all there.
    expect(namedFolders(doc)).toEqual(expect.arrayContaining(['src/errors/', 'src/protection/breaker/']));
    expect(requiredFolders(ROOT).length).toBeGreaterThan(30);
  });

  it('has the three C4 views, each with a diagram', async () => {
    const doc = await readFile(DOC, 'utf8');
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(expect.arrayContaining(['1. Context', '2. Containers', '3. Components']));
    expect(doc.match(/```mermaid\n/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('the check catches a new undocumented folder and a documented folder that is gone', async () => {
    const root = await mkdtemp(join(tmpdir(), 'architecture-doc-'));
    try {
      await mkdir(join(root, 'src', 'events', 'stores'), { recursive: true });
      await mkdir(join(root, 'src', 'events', 'stores', 'deep'), { recursive: true });
      await mkdir(join(root, 'src', 'jobs'), { recursive: true });
      await mkdir(join(root, 'src', 'cache', 'redis'), { recursive: true });
      const doc = 'The events (`src/events/`, `src/events/stores/`), the cache (`src/cache/`), `src/flags/`.';
      expect(compare(doc, root)).toEqual({
        absent: ['src/flags/'],
        undocumented: ['src/cache/redis/', 'src/jobs/'],
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
