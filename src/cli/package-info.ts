/**
 * The package's name and version, read from its package.json (two folders up from `src/cli` and from
 * `dist/cli` alike).
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** Name and version of the installed package. */
export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

/** Reads package.json next to `src/` / `dist/`. */
export function packageInfo(): PackageInfo {
  const raw = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as Partial<PackageInfo>;
  return { name: raw.name ?? '@elixirscope/foundation', version: raw.version ?? '0.0.0' };
}
