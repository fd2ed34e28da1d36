/**
 * The dashboard's static files. They live in `public/` next to this module (`src/server/public` when run
 * from source, `dist/server/public` after the build copies them), are read once when the control bus
 * starts and are served from memory: no path from a request ever reaches the file system.
 *
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file ready to serve. */
export interface StaticFile {
  /** URL path, e.g. `/app.js`; `index.html` is served at `/`. */
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** Content types of the file extensions the dashboard uses; other files are not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The folder holding the dashboard files, resolved relative to this module. */
export function publicDirectory(): string {
  return fileURLToPath(new URL('./public/', import.meta.url));
}

/**
 * Reads every servable file of `directory` (not recursive). `index.html` is mapped to `/`. A missing
 * folder yields no files (the API still works; `/` answers 404).
 */
export async function loadStaticFiles(directory: string = publicDirectory()): Promise<StaticFile[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  const files: StaticFile[] = [];
  for (const name of names.sort()) {
    const contentType = CONTENT_TYPES[extname(name).toLowerCase()];
    if (contentType === undefined || !/^[A-Za-z0-9._-]+$/.test(name)) continue;
    const body = await readFile(join(directory, name));
    files.push({ path: name === 'index.html' ? '/' : `/${name}`, contentType, body });
  }
  return files;
}
