/**
 * One partition of a durable subscription, handled by this member: a live subscription from the partition's
 * checkpoint, the handler with retries, and batched checkpoint writes guarded by the partition's lease.
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../../../errors/index.js';
import type { Clock, TimerHandle } from '../../../kernel/clock.js';
import { telemetryEvent } from '../../../kernel/telemetry.js';
import type { StoredEvent } from '../../model/types.js';
import type { Subscription, SubscriptionFrom } from '../types.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { SubscribableEvents } from './events-port.js';
import { eventKey, partitionOfKey } from './partition.js';
import type { DurableEventContext, DurablePartitionStatus } from './types.js';
import type { DurableConfig } from './validate-options.js';

const checkpointed = telemetryEvent('events:durable_checkpointed');
const checkpointFailed = telemetryEvent('events:durable_checkpoint_failed');
const handlerRetry = telemetryEvent('events:durable_handler_retry');
const deadLettered = telemetryEvent('events:durable_dead_lettered');

/** What a worker needs from its handle. */
export interface WorkerDeps {
  readonly config: DurableConfig;
  readonly events: SubscribableEvents;
  readonly store: CheckpointStore;
  readonly clock: Clock;
  /** The handler failed for good (or the reader did): the handle fails. Never awaited by the worker. */
  readonly onFail: (error: FoundationError) => void;
  /** The lease is gone (a checkpoint write was refused). Never awaited by the worker. */
  readonly onLost: (partition: number, reason: string) => void;
  /** Counts handled and dead-lettered events for the handle's status. */
  readonly count: (kind: 'handled' | 'deadLettered') => void;
}

interface Place {
  readonly checkpoint: string;
  readonly position: number;
}

/** The handler gave up because the worker is closing: the event stays unacknowledged. */
const CLOSING = Symbol('closing');

/** Handles one partition until stopped, abandoned or failed. */
export class PartitionWorker {
  readonly partition: number;
  /** Monotonic time until which the lease is known to be held; events are not handled after it. */
  validUntil: number;
  readonly #deps: WorkerDeps;
  readonly #subscription: Subscription;
  #closing = false;
  #current: Promise<void> = Promise.resolve();
  #writes: Promise<void> = Promise.resolve();
  #pending: Place | undefined;
  #stored: Place | undefined;
  #storedPosition: number;
  #unstored = 0;
  #handled = 0;
  #timer: TimerHandle | undefined;
  #wake: (() => void) | undefined;

  /** Starts reading right away, from `from`. */
  constructor(
    deps: WorkerDeps,
    partition: number,
    from: SubscriptionFrom,
    storedPosition: number,
    validUntil: number,
  ) {
    this.#deps = deps;
    this.partition = partition;
    this.validUntil = validUntil;
    this.#storedPosition = storedPosition;
    const { config } = deps;
    this.#subscription = deps.events.subscribe(
      config.filter,
      {
        from,
        name: `${config.name}#${partition}`,
        ...(config.batchSize === undefined ? {} : { batchSize: config.batchSize }),
        ...(config.bufferSize === undefined ? {} : { bufferSize: config.bufferSize }),
      },
      (event, checkpoint) => this.#onEvent(event, checkpoint),
    );
    this.#subscription.done.catch((error: unknown) => {
      if (this.#closing) return;
      deps.onFail(
        failure(config, partition, undefined, error, `the reader of partition ${partition} failed`),
      );
    });
  }

  /** Progress of this partition. */
  status(): DurablePartitionStatus {
    const place = this.#pending ?? this.#stored;
    const sub = this.#subscription.status();
    return {
      partition: this.partition,
      checkpoint: place?.checkpoint ?? null,
      position: place?.position ?? this.#storedPosition,
      storedPosition: this.#storedPosition,
      lag: sub.lag,
      handled: this.#handled,
    };
  }

  /**
   * Stops reading, lets the event being handled finish (a retry wait ends early and leaves its event
   * unacknowledged), then stores the checkpoint of the last acknowledged event.
   */
  async stop(): Promise<void> {
    await this.#close();
    await this.flush();
  }

  /** Stops reading without storing anything more (the lease is gone). */
  async abandon(): Promise<void> {
    await this.#close();
  }

  /** Stores the checkpoint of the last acknowledged event, if newer than the stored one. */
  flush(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#writes = this.#writes.then(() => this.#write());
    return this.#writes;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    await this.#subscription.close().catch(() => undefined);
    await this.#current;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #onEvent(event: StoredEvent, checkpoint: string): Promise<void> {
    if (this.#closing) return Promise.resolve();
    if (this.#deps.clock.monotonic() >= this.validUntil) {
      // The lease may have been taken over: handle nothing more; a new worker resumes from the store.
      this.#closing = true;
      this.#deps.onLost(this.partition, 'lease not renewed in time');
      return Promise.resolve();
    }
    const run = this.#handle(event, checkpoint);
    this.#current = run;
    return run;
  }

  async #handle(event: StoredEvent, checkpoint: string): Promise<void> {
    const { config } = this.#deps;
    let partition: number;
    try {
      partition = partitionOfKey(eventKey(event, config.key), config.partitions);
    } catch (error) {
      this.#deps.onFail(failure(config, this.partition, event, error, 'the group key function threw'));
      this.#closing = true;
      return;
    }
    if (partition === this.partition) {
      const outcome = await this.#handleWithRetries(event, checkpoint);
      if (outcome === CLOSING) return;
      if (outcome instanceof FoundationError) {
        this.#closing = true;
        this.#deps.onFail(outcome);
        return;
      }
      if (outcome === 'handled') {
        this.#handled++;
        this.#deps.count('handled');
      }
    }
    this.#pending = { checkpoint, position: event.position };
    this.#unstored++;
    if (this.#unstored >= config.checkpointEvery || config.checkpointIntervalMs === 0) {
      await this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = this.#deps.clock.setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, config.checkpointIntervalMs);
    }
  }

  /** How the event was acknowledged, {@link CLOSING}, or the failure to report. */
  async #handleWithRetries(
    event: StoredEvent,
    checkpoint: string,
  ): Promise<'handled' | 'dead_lettered' | typeof CLOSING | FoundationError> {
    const { config } = this.#deps;
    let lastError: unknown;
    let context: DurableEventContext | undefined;
    for (let attempt = 1; attempt <= config.attempts; attempt++) {
      if (this.#closing) return CLOSING;
      context = { name: config.name, member: config.member, partition: this.partition, checkpoint, attempt };
      try {
        await config.handler(event, context);
        return 'handled';
      } catch (error) {
        lastError = error;
        if (attempt === config.attempts) break;
        const wait = Math.min(config.maxBackoffMs, config.backoffMs * 2 ** (attempt - 1));
        handlerRetry.emit(
          { partition: this.partition, attempt, position: event.position, waitMs: wait },
          { name: config.name, member: config.member, code: isFoundationError(error) ? error.code : 'error' },
        );
        await this.#sleep(wait);
      }
    }
    if (this.#closing) return CLOSING;
    const ctx = context as DurableEventContext;
    if (config.deadLetter !== undefined) {
      try {
        await config.deadLetter(event, lastError, ctx);
        this.#deps.count('deadLettered');
        deadLettered.emit(
          { partition: this.partition, position: event.position },
          { name: config.name, member: config.member, eventId: event.id },
        );
        return 'dead_lettered';
      } catch (error) {
        return failure(config, this.partition, event, error, 'the dead-letter handler threw');
      }
    }
    return failure(
      config,
      this.partition,
      event,
      lastError,
      `the handler failed ${config.attempts} time(s) on event ${event.id}`,
    );
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#deps.clock.setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        timer.cancel();
        this.#wake = undefined;
        resolve();
      };
    });
  }

  async #write(): Promise<void> {
    const place = this.#pending;
    if (place === undefined || place.checkpoint === this.#stored?.checkpoint) return;
    const { config, store, clock } = this.#deps;
    const started = clock.monotonic();
    const count = this.#unstored;
    try {
      await store.commit(config.name, this.partition, config.member, place.checkpoint, place.position);
    } catch (error) {
      if (isFoundationError(error) && error.code === 'FND_EVENTS_CHECKPOINT_CONFLICT') {
        this.#closing = true;
        this.#deps.onLost(this.partition, 'checkpoint refused');
        return;
      }
      checkpointFailed.emit(
        { partition: this.partition, position: place.position },
        { name: config.name, member: config.member, code: isFoundationError(error) ? error.code : 'error' },
      );
      // Kept pending: the next event or stop() tries again.
      return;
    }
    this.#stored = place;
    this.#storedPosition = place.position;
    this.#unstored = Math.max(0, this.#unstored - count);
    if (this.#pending === place) this.#pending = undefined;
    checkpointed.emit(
      {
        partition: this.partition,
        position: place.position,
        events: count,
        duration: clock.monotonic() - started,
      },
      { name: config.name, member: config.member },
    );
  }
}

function failure(
  config: DurableConfig,
  partition: number,
  event: StoredEvent | undefined,
  cause: unknown,
  reason: string,
): FoundationError {
  return new FoundationError('FND_EVENTS_SUBSCRIPTION_FAILED', {
    message: `Durable subscription "${config.name}" failed: ${reason}`,
    context: {
      name: config.name,
      member: config.member,
      partition,
      ...(event === undefined ? {} : { eventId: event.id, position: event.position }),
    },
    cause,
  });
}
