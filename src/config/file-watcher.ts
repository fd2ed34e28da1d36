/**
 * Watches one config file for edits. It watches the file's directory (editors and deploy tools often replace
 * a file by renaming a new one over it, which a watch on the file itself would lose) and reports changes of
 * that name after a short quiet period, so a write in several chunks is read once. The reader compares
 * contents, so spurious events cost a read and nothing else.
 *
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock, TimerHandle } from '../kernel/clock.js';

/** Quiet period after the last event before the file is read, ms. */
export const FILE_SETTLE_MS = 50;

/** A running watch; `close()` stops it. */
export interface FileWatch {
  close(): void;
}

/**
 * Calls `onChange` (debounced) when the file at `path` may have changed; `onError` when the watch itself
 * fails (the directory was removed, too many watches). Nothing runs before this is called.
 */
export function watchConfigFile(
  path: string,
  clock: Clock,
  onChange: () => void,
  onError: (error: unknown) => void,
): FileWatch {
  const name = basename(path);
  let timer: TimerHandle | undefined;
  let closed = false;
  const schedule = (): void => {
    timer?.cancel();
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, FILE_SETTLE_MS);
  };
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      // Some platforms omit the name: then any change in the directory is a candidate.
      if (filename === null || filename === name) schedule();
    });
  } catch (error) {
    onError(error);
    return { close: () => undefined };
  }
  watcher.on('error', (error) => {
    if (!closed) onError(error);
  });
  return {
    close() {
      closed = true;
      timer?.cancel();
      watcher.close();
    },
  };
}
