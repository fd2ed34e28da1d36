/**
 * Graceful shutdown for `foundation start`: the signal source, and the watch that stops the foundation on
 * SIGTERM / SIGINT (or an escalated failure) within the shutdown timeout and gives the exit code.
 *
 * @module
 */
import type { Foundation } from '../../app/foundation.js';
import { FoundationError } from '../../errors/index.js';
import { systemClock, type Clock, type TimerHandle } from '../../kernel/clock.js';
import { describeError, EXIT, type CliIo, type ExitCode } from '../cli-io.js';
import type { StartSettings } from './start-settings.js';

/** Where `start` listens for shutdown signals; tests may pass their own. */
export interface SignalSource {
  /** Calls `handler` on each `signal`; returns a function that stops listening. */
  on(signal: 'SIGTERM' | 'SIGINT', handler: () => void): () => void;
}

/** The process's signals. */
export const processSignals: SignalSource = {
  on(signal, handler) {
    process.on(signal, handler);
    return () => {
      process.off(signal, handler);
    };
  },
};

/** A shutdown watch: resolves the exit code once the foundation is stopped; `cancel` stops watching. */
export interface ShutdownWatch {
  readonly exitCode: Promise<ExitCode>;
  cancel(): void;
}

/**
 * Watches for a shutdown signal (or an escalated failure) and then stops `foundation`. `exitCode` resolves
 * to 0 after a clean stop, 1 when stopping failed, timed out, was cut short by a second signal, or the
 * supervisor escalated. Install it before starting, so a signal is never missed. The stop time limit runs on
 * `clock` (unref'ed with the system clock).
 */
export function watchShutdown(
  foundation: Foundation,
  settings: Pick<StartSettings, 'shutdownTimeoutMs'>,
  io: CliIo,
  signals: SignalSource = processSignals,
  clock: Clock = systemClock,
): ShutdownWatch {
  let stopping = false;
  let timer: TimerHandle | undefined;
  const removers: Array<() => void> = [];
  let done: (code: ExitCode) => void = () => undefined;
  const exitCode = new Promise<ExitCode>((resolve) => {
    done = resolve;
  });
  const cancel = (): void => {
    timer?.cancel();
    for (const remove of removers.splice(0)) remove();
  };
  const finish = (code: ExitCode): void => {
    cancel();
    done(code);
  };
  const stop = (reason: string, cleanCode: ExitCode): void => {
    stopping = true;
    io.out(`foundation ${foundation.name} ${reason}; stopping (timeout ${settings.shutdownTimeoutMs} ms)`);
    timer = clock.setTimeout(() => {
      const error = new FoundationError('FND_LIFECYCLE_STOP_TIMEOUT', {
        message: `Foundation ${foundation.name} did not stop within ${settings.shutdownTimeoutMs} ms; exiting`,
      });
      io.err(`foundation: ${describeError(error)}`);
      finish(EXIT.failure);
    }, settings.shutdownTimeoutMs);
    foundation.stop().then(
      () => {
        io.out(`foundation ${foundation.name} stopped`);
        finish(cleanCode);
      },
      (error: unknown) => {
        io.err(`foundation: ${describeError(error)}`);
        finish(EXIT.failure);
      },
    );
  };
  const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
    if (stopping) {
      io.err(`foundation: second ${signal}; exiting at once`);
      finish(EXIT.failure);
      return;
    }
    stop(`received ${signal}`, EXIT.ok);
  };
  removers.push(
    signals.on('SIGTERM', () => {
      onSignal('SIGTERM');
    }),
    signals.on('SIGINT', () => {
      onSignal('SIGINT');
    }),
    foundation.supervisor.on('escalated', ({ error }) => {
      io.err(`foundation: ${describeError(error)}`);
      if (!stopping) stop('escalated a failure', EXIT.failure);
    }),
  );
  return { exitCode, cancel };
}
