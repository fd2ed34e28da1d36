/**
 * The reloads of a config's watched file, one at a time: an edit is read, compared with the last good
 * contents, and handed to the config as a new file layer. Reloads never overlap (at most one waits, and it
 * reads the file when it starts, so it sees every edit made until then): an older read is never applied after
 * a newer one. The state is `ok`, `missing`, `none` or `invalid` (an edit was refused, until valid contents —
 * or the last good ones — come back).
 *
 * @module
 */
import type { FileSettings } from './config-sources.js';
import { readConfigFile } from './model/file.js';
import type { ConfigStatus, JsonObject } from './types.js';

/** How a config takes part in its file's reloads. */
export interface FileReloadHooks {
  /** Whether the config runs (a reload of a stopped config does nothing and refuses nothing). */
  running(): boolean;
  /** Applies new file contents as a `file` version; rejects when the change is refused. */
  apply(next: JsonObject): Promise<void>;
  /** An edit was refused: unreadable, unparsable, invalid or vetoed. */
  refused(error: unknown): void;
  /** The reload machinery itself failed (not an edit's fault). */
  failed(error: unknown): void;
}

/** The reload queue of one watched file. */
export class ConfigFileReloads {
  readonly #file: FileSettings;
  readonly #maxBytes: number;
  readonly #hooks: FileReloadHooks;
  #text: string | undefined;
  #state: ConfigStatus['fileState'];
  #reloads: Promise<void> = Promise.resolve();
  #queued = false;

  /** @param initial - the contents and state the config was created from */
  constructor(
    file: FileSettings,
    maxBytes: number,
    initial: { readonly text: string | undefined; readonly state: ConfigStatus['fileState'] },
    hooks: FileReloadHooks,
  ) {
    this.#file = file;
    this.#maxBytes = maxBytes;
    this.#text = initial.text;
    this.#state = initial.state;
    this.#hooks = hooks;
  }

  /** The file's state for status and health. */
  get state(): ConfigStatus['fileState'] {
    return this.#state;
  }

  /** Queues a reload after the one in progress (at most one waits). */
  schedule(): void {
    if (this.#queued) return;
    this.#queued = true;
    this.#reloads = this.#reloads.then(() => {
      this.#queued = false;
      return this.#reload().catch((error: unknown) => {
        this.#hooks.failed(error);
      });
    });
  }

  /** Resolves when no reload runs or waits. */
  idle(): Promise<void> {
    return this.#reloads;
  }

  async #reload(): Promise<void> {
    if (!this.#hooks.running()) return;
    let next: JsonObject;
    let text: string;
    try {
      const read = await readConfigFile(this.#file.path, this.#maxBytes);
      // A file being replaced disappears for a moment; a deleted file keeps the last good layer.
      if (read.state === 'missing') return;
      if (read.text === this.#text) {
        // The last good contents are back (an invalid edit was reverted).
        if (this.#state === 'invalid') this.#state = 'ok';
        return;
      }
      next = read.value;
      text = read.text;
    } catch (error) {
      this.#refuse(error);
      return;
    }
    try {
      await this.#hooks.apply(next);
      this.#text = text;
      this.#state = 'ok';
    } catch (error) {
      this.#refuse(error);
    }
  }

  #refuse(error: unknown): void {
    // A reload in flight when the config stopped is not an edit to refuse (the next start reads again).
    if (!this.#hooks.running()) return;
    this.#state = 'invalid';
    this.#hooks.refused(error);
  }
}
