/**
 * The versions of a memory storage, shared by every memory config version store made with the same
 * {@link ConfigWatchHub}.
 *
 * @module
 */
import type { ConfigVersionRow } from './version-record-codec.js';

/** An in-memory `config_versions` table: rows in version order, 1, 2, 3… without gaps. */
export class MemoryConfigVersionLog {
  readonly #rows: ConfigVersionRow[] = [];

  /** The newest version number, `0` when empty. */
  get latest(): number {
    return this.#rows.length;
  }

  /** The row of `version`, if stored. */
  row(version: number): ConfigVersionRow | undefined {
    return this.#rows[version - 1];
  }

  /** Rows with `from <= version <= to`, oldest first. */
  range(from: number, to: number): ConfigVersionRow[] {
    const start = Math.max(1, from);
    const end = Math.min(this.#rows.length, to);
    return end < start ? [] : this.#rows.slice(start - 1, end);
  }

  /** Appends `row`, whose version the caller checked to be `latest + 1`. */
  push(row: ConfigVersionRow): void {
    this.#rows.push(row);
  }
}
