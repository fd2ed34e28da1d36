/**
 * Everything a config tells the world about its changes, apart from the change itself: subscribers (their
 * `prepare` veto and their notifications), telemetry, and the events queued for the event store. None of it
 * can fail a change: subscribers are isolated, events are retried from a bounded queue.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { FoundationError } from '../errors/index.js';
import type { Clock } from '../kernel/clock.js';
import type { ConfigEventRecord } from './config-api.js';
import { changeEvent, reloadFailedEvent } from './config-records.js';
import { configTelemetry } from './config-telemetry.js';
import { SideEffectQueue, type SideEffectCounts } from './side-effects.js';
import { ConfigSubscribers } from './subscribers.js';
import type {
  ConfigChange,
  ConfigSubscriber,
  ConfigVersionKind,
  ConfigVersionRecord,
  DeepReadonly,
  JsonObject,
} from './types.js';

/** The announcer of one config. */
export class ConfigAnnouncer<T> {
  readonly #telemetry = configTelemetry();
  readonly #subscribers: ConfigSubscribers<T>;
  readonly #effects: SideEffectQueue;
  readonly #recordEvent: ((event: ConfigEventRecord) => Promise<unknown>) | undefined;

  /**
   * @param recordEvent - appends an event to the event store (absent: no events)
   * @param onFailed - called when a side effect gave up after its retries
   */
  constructor(
    clock: Clock,
    recordEvent: ((event: ConfigEventRecord) => Promise<unknown>) | undefined,
    onFailed: (error: FoundationError) => void,
  ) {
    this.#recordEvent = recordEvent;
    this.#subscribers = new ConfigSubscribers<T>((error, phase, prefix) => {
      this.#telemetry.subscriberFailed.emit({ count: 1 }, { phase, prefix, code: error.code });
    });
    this.#effects = new SideEffectQueue({
      clock,
      onFailed: (name, error) => {
        this.#telemetry.sideEffectFailed.emit({ count: 1 }, { effect: name });
        onFailed(error);
      },
    });
  }

  /** How many subscribers, and how many of their calls threw. */
  get subscribers(): { readonly count: number; readonly errors: number } {
    return { count: this.#subscribers.size, errors: this.#subscribers.errors };
  }

  /** The side-effect queue's counters. */
  sideEffects(): SideEffectCounts {
    return this.#effects.counts();
  }

  /** Resolves when no side effect is pending. */
  settled(): Promise<void> {
    return this.#effects.idle();
  }

  subscribe(prefix: string, subscriber: ConfigSubscriber<T>): (() => void) & Disposable {
    return this.#subscribers.add(prefix, subscriber);
  }

  /** Subscribers' `prepare`: a veto throws `FND_CONFIG_UPDATE_VETOED`. */
  async prepare(
    kind: ConfigVersionKind,
    changes: ConfigChange[],
    current: JsonObject,
    proposed: JsonObject,
  ): Promise<void> {
    const veto = await this.#subscribers.prepare({
      kind,
      changes,
      current: current as DeepReadonly<T>,
      proposed: proposed as DeepReadonly<T>,
    });
    if (veto !== undefined) {
      throw new FoundationError('FND_CONFIG_UPDATE_VETOED', {
        message: `A subscriber of "${veto.prefix}" vetoed the change: ${veto.reason}`,
        context: { prefix: veto.prefix, reason: veto.reason },
      });
    }
  }

  /** A local change was applied: telemetry, its event, the subscribers. */
  changed(
    kind: ConfigVersionKind,
    previous: number,
    changes: ConfigChange[],
    record: ConfigVersionRecord,
    config: JsonObject,
  ): void {
    this.#telemetry.updated.emit({ changes: changes.length }, { version: record.version, kind });
    this.#record(changeEvent(kind, previous, record));
    this.#notify(kind, previous, changes, record, config);
  }

  /** A version from another node was applied here (its writer recorded its event). */
  remoteApplied(
    previous: number,
    changes: ConfigChange[],
    record: ConfigVersionRecord,
    config: JsonObject,
  ): void {
    this.#telemetry.remoteApplied.emit(
      { changes: changes.length },
      { version: record.version, node: record.node },
    );
    this.#notify('remote', previous, changes, record, config);
  }

  /** A change was refused. */
  refused(error: unknown): void {
    this.#telemetry.refused.emit(
      { count: 1 },
      { code: error instanceof FoundationError ? error.code : 'unknown' },
    );
  }

  /** The watched file became a new version. */
  fileReloaded(file: string, version: number): void {
    this.#telemetry.reloaded.emit({ count: 1 }, { file, version });
  }

  /** An edit of the watched file was refused: telemetry and a `config.reload_failed` event. */
  fileRefused(file: string, failure: FoundationError, version: number): void {
    this.#telemetry.reloadFailed.emit({ count: 1 }, { file, code: failure.code });
    this.#record(reloadFailedEvent(`config-reload-failed-${randomUUID()}`, file, failure, version));
  }

  #record(event: ConfigEventRecord): void {
    const recordEvent = this.#recordEvent;
    if (recordEvent === undefined) return;
    this.#effects.push(event.type, async () => {
      await recordEvent(event);
    });
  }

  #notify(
    kind: ConfigVersionKind | 'remote',
    previous: number,
    changes: ConfigChange[],
    record: ConfigVersionRecord,
    config: JsonObject,
  ): void {
    if (this.#subscribers.size === 0) return;
    this.#subscribers.notify({
      version: record.version,
      previousVersion: previous,
      kind,
      changes,
      config: config as DeepReadonly<T>,
      correlationId: record.correlationId,
      actor: record.actor,
      reason: record.reason,
    });
  }
}
