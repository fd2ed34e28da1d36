/**
 * The subscribers of a config: each watches a prefix; `prepare` may veto a local change before it applies,
 * `onChange` hears it after. A subscriber that throws is isolated: counted, reported through the `onError`
 * callback, and never allowed to break the change or the other subscribers.
 *
 * @module
 */
import { FoundationError } from '../errors/index.js';
import { parsePath } from './model/path.js';
import type { ConfigChange, ConfigChangeEvent, ConfigProposal, ConfigSubscriber } from './types.js';

interface Entry<T> {
  readonly prefix: string;
  readonly subscriber: ConfigSubscriber<T>;
}

/** Whether a change at `path` concerns a subscriber of `prefix` (`''` = everything). */
export function concerns(prefix: string, path: string): boolean {
  if (prefix === '' || path === prefix) return true;
  // A change below the prefix, or a change of an ancestor that replaced the prefix's subtree.
  return path.startsWith(`${prefix}.`) || prefix.startsWith(`${path}.`);
}

/** The changes under `prefix`. */
export function changesUnder(prefix: string, changes: readonly ConfigChange[]): ConfigChange[] {
  return prefix === '' ? [...changes] : changes.filter((change) => concerns(prefix, change.path));
}

/** The subscriber list of one config. */
export class ConfigSubscribers<T> {
  readonly #entries = new Set<Entry<T>>();
  readonly #onError: (error: FoundationError, phase: 'prepare' | 'change', prefix: string) => void;
  #errors = 0;

  constructor(onError: (error: FoundationError, phase: 'prepare' | 'change', prefix: string) => void) {
    this.#onError = onError;
  }

  /** How many are subscribed. */
  get size(): number {
    return this.#entries.size;
  }

  /** How many subscriber calls threw or rejected. */
  get errors(): number {
    return this.#errors;
  }

  /** Adds one; `FND_CONFIG_INVALID_PATH` for a malformed prefix. Returns the unsubscribe function. */
  add(prefix: string, subscriber: ConfigSubscriber<T>): (() => void) & Disposable {
    const normalized = prefix === '*' || prefix === '' ? '' : parsePath(prefix).join('.');
    if (
      typeof subscriber !== 'object' ||
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- callers outside TypeScript may pass null
      subscriber === null ||
      (subscriber.onChange === undefined && subscriber.prepare === undefined)
    ) {
      throw new FoundationError('FND_CONFIG_INVALID_STRUCTURE', {
        message: 'A config subscriber needs an onChange or a prepare function',
        context: { prefix: normalized },
      });
    }
    const entry: Entry<T> = { prefix: normalized, subscriber };
    this.#entries.add(entry);
    const unsubscribe = (): void => {
      this.#entries.delete(entry);
    };
    return Object.assign(unsubscribe, { [Symbol.dispose]: unsubscribe });
  }

  /**
   * Runs every concerned `prepare` in turn; resolves to the first veto (with the subscriber's prefix), or
   * `undefined`. A prepare that throws is reported and does not veto.
   */
  async prepare(proposal: ConfigProposal<T>): Promise<{ reason: string; prefix: string } | undefined> {
    for (const entry of [...this.#entries]) {
      if (entry.subscriber.prepare === undefined) continue;
      const changes = changesUnder(entry.prefix, proposal.changes);
      if (changes.length === 0) continue;
      try {
        const verdict = await entry.subscriber.prepare({ ...proposal, changes });
        if (verdict !== undefined && typeof verdict.veto === 'string') {
          return { reason: verdict.veto.slice(0, 500), prefix: entry.prefix };
        }
      } catch (error) {
        this.#report(error, 'prepare', entry.prefix);
      }
    }
    return undefined;
  }

  /** Calls every concerned `onChange` (not awaited in turn: one slow subscriber does not delay the others). */
  notify(event: ConfigChangeEvent<T>): void {
    for (const entry of [...this.#entries]) {
      if (entry.subscriber.onChange === undefined) continue;
      const changes = changesUnder(entry.prefix, event.changes);
      if (changes.length === 0 && event.changes.length > 0) continue;
      try {
        const result = entry.subscriber.onChange({ ...event, changes });
        if (result instanceof Promise) {
          result.catch((error: unknown) => {
            this.#report(error, 'change', entry.prefix);
          });
        }
      } catch (error) {
        this.#report(error, 'change', entry.prefix);
      }
    }
  }

  #report(error: unknown, phase: 'prepare' | 'change', prefix: string): void {
    this.#errors += 1;
    this.#onError(
      new FoundationError('FND_CONFIG_SIDE_EFFECT_FAILED', {
        message: `A config subscriber (prefix "${prefix}") threw in ${phase}`,
        context: { prefix, phase },
        cause: error,
      }),
      phase,
      prefix,
    );
  }
}
