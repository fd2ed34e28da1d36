/**
 * `foundation events tail`: follows the event log of a running foundation through its control bus
 * (`GET /api/events/stream`, server-sent events), printing one line (or one JSON object) per event until
 * SIGINT / SIGTERM. A dropped connection is resumed with `Last-Event-ID` — the events missed while it was
 * down are printed, none twice — for up to `--retry-for`; after that the command gives up with exit code 1.
 *
 * @module
 */
import { FoundationError, isFoundationError } from '../../errors/index.js';
import { systemClock, type Clock } from '../../kernel/clock.js';
import type { StoredEvent } from '../../events/model/types.js';
import {
  invalidArgument,
  parseDuration,
  parseFlags,
  parseUrl,
  pick,
  type ParsedFlags,
} from '../arguments.js';
import { EXIT, type CliIo, type ExitCode } from '../cli-io.js';
import { DEFAULT_URL, problemDetail, problemError } from '../control-bus-client.js';
import { formatEventLine } from '../events-format.js';
import { jsonFlag, stringFlag } from '../flag-values.js';
import { SseParser } from '../sse-reader.js';
import { processSignals, type SignalSource } from './start.js';

/** Flags of `events tail`. */
export const TAIL_FLAGS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  types: { type: 'string' },
  stream: { type: 'string' },
  'correlation-id': { type: 'string' },
  where: { type: 'string' },
  from: { type: 'string' },
  'retry-for': { type: 'string' },
  'idle-timeout': { type: 'string' },
} as const;

/** Help lines of `events tail` (part of `foundation events --help`). */
export const TAIL_HELP = [
  'tail    follows the event log live (GET /api/events/stream): one line per event, or one JSON object per',
  '        line with --json, until Ctrl-C. A dropped connection is resumed after the last event printed.',
  '  --types a.*,b         type patterns, comma-separated',
  '  --stream S            only this stream',
  '  --correlation-id C    only this correlation id',
  `  --where JSON          predicates, e.g. '[{"path":"data.total","op":"gt","value":10}]'`,
  '  --from start|end|N|C  start: the whole log, then live; end (default): new events only; N: after',
  '                        position N; C: after the checkpoint C (printed when the tail stops)',
  '  --retry-for DURATION  keep reconnecting for this long after losing the bus (default 10s), then exit 1',
  '  --idle-timeout DUR    treat a connection silent for this long as lost (default 45s; the bus sends a',
  '                        heartbeat every 15s)',
];

/** What `events tail` needs besides its arguments; tests pass their own. */
export interface TailDependencies {
  readonly signals: SignalSource;
  readonly clock: Clock;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2000;

/** The path and query of `GET /api/events/stream` for the tail flags. */
export function tailPath(flags: ParsedFlags): string {
  const params = new URLSearchParams();
  const types = stringFlag(flags, 'types');
  if (types !== undefined) params.set('types', types);
  const stream = stringFlag(flags, 'stream');
  if (stream !== undefined) params.set('stream', stream);
  const correlationId = stringFlag(flags, 'correlation-id');
  if (correlationId !== undefined) params.set('correlationId', correlationId);
  const where = stringFlag(flags, 'where');
  if (where !== undefined) params.set('where', JSON.stringify(jsonFlag(where, '--where', 'array')));
  const from = stringFlag(flags, 'from');
  if (from !== undefined) {
    if (from.length > 200 || /\s/.test(from)) {
      throw invalidArgument('--from must be start, end, a position or a checkpoint', { flag: '--from' });
    }
    params.set('from', from);
  }
  const query = params.toString();
  return query === '' ? '/api/events/stream' : `/api/events/stream?${query}`;
}

function isStoredEvent(value: unknown): value is StoredEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Partial<StoredEvent>;
  return typeof event.type === 'string' && typeof event.position === 'number';
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      timer.cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Why one connection ended. `opened`: the server accepted the tail (200); `failed`: it ended the stream with a
 * `problem` message (its subscription failed). A failed connection does not restart the `--retry-for`
 * window, so a failure that persists ends the tail instead of reconnecting forever.
 */
type Outcome =
  | { readonly kind: 'lost'; readonly reason: string; readonly opened: boolean; readonly failed?: true }
  | { readonly kind: 'stopped' };

/** Runs `foundation events tail`. */
export async function runTail(
  args: readonly string[],
  io: CliIo,
  deps: TailDependencies = { signals: processSignals, clock: systemClock },
): Promise<ExitCode> {
  const flags = parseFlags('events tail', args, TAIL_FLAGS);
  const base = parseUrl(pick(flags, 'url', io.env, 'FOUNDATION_URL')?.value ?? DEFAULT_URL, '--url');
  const retryForMs =
    typeof flags['retry-for'] === 'string' ? parseDuration(flags['retry-for'], '--retry-for') : 10_000;
  const idleTimeoutMs =
    typeof flags['idle-timeout'] === 'string'
      ? parseDuration(flags['idle-timeout'], '--idle-timeout')
      : 45_000;
  const json = flags.json === true;
  const url = new URL(tailPath(flags), base);
  const { clock } = deps;

  const stop = new AbortController();
  // A function, not a property read: the flag changes while awaiting.
  const stopped = (): boolean => stop.signal.aborted;
  const unlisten = (['SIGINT', 'SIGTERM'] as const).map((signal) =>
    deps.signals.on(signal, () => {
      stop.abort();
    }),
  );

  let lastId: string | undefined;
  let received = 0;
  const resumeHint = (): string => (lastId === undefined ? '' : `; resume with --from ${lastId}`);

  /** One connection: resolves when it ends; throws a FoundationError when the server refuses the tail. */
  const follow = async (reconnecting: boolean): Promise<Outcome> => {
    const connection = new AbortController();
    const onStop = (): void => {
      connection.abort();
    };
    stop.signal.addEventListener('abort', onStop, { once: true });
    let idle = clock.setTimeout(() => {
      connection.abort();
    }, idleTimeoutMs);
    const touch = (): void => {
      idle.cancel();
      idle = clock.setTimeout(() => {
        connection.abort();
      }, idleTimeoutMs);
    };
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      let response: Response;
      try {
        response = await fetch(url, { headers, signal: connection.signal });
      } catch (error) {
        if (stopped()) return { kind: 'stopped' };
        const code = (error as { cause?: { code?: unknown } }).cause?.code;
        return { kind: 'lost', reason: typeof code === 'string' ? code : 'no answer', opened: false };
      }
      if (response.status !== 200) {
        const text = await response.text().catch(() => '');
        let body: unknown;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = undefined;
        }
        // A bus that is stopping (or momentarily full) answers 503: worth waiting for, once we were in.
        if (reconnecting && response.status === 503) {
          return { kind: 'lost', reason: `503 ${problemDetail(body)}`, opened: false };
        }
        throw problemError(`GET ${url.origin}/api/events/stream`, response.status, body);
      }
      touch();
      if (reconnecting)
        io.err(`foundation: reconnected to ${base.origin}${lastId ? ` after ${lastId}` : ''}`);
      const body = response.body;
      if (body === null) return { kind: 'lost', reason: 'empty response', opened: true };
      let failure: string | undefined;
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            return failure === undefined
              ? { kind: 'lost', reason: 'the server closed the stream', opened: true }
              : { kind: 'lost', reason: failure, opened: true, failed: true };
          }
          touch();
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            if (message.event === 'event') {
              let event: unknown;
              try {
                event = JSON.parse(message.data) as unknown;
              } catch {
                event = undefined;
              }
              if (!isStoredEvent(event)) {
                throw new FoundationError('FND_EXTERNAL_SERVICE_ERROR', {
                  message: `The control bus at ${base.origin} sent an event that is not an event object`,
                  context: { id: message.id },
                });
              }
              if (message.id !== undefined) lastId = message.id;
              received += 1;
              io.out(json ? message.data : formatEventLine(event));
            } else if (message.event === 'problem') {
              let problem: unknown;
              try {
                problem = JSON.parse(message.data) as unknown;
              } catch {
                problem = undefined;
              }
              failure = problemDetail(problem);
              io.err(`foundation: the control bus ended the stream: ${failure}`);
            }
          }
        }
      } catch (error) {
        if (isFoundationError(error)) throw error;
        if (stopped()) return { kind: 'stopped' };
        return {
          kind: 'lost',
          reason: connection.signal.aborted ? `silent for ${idleTimeoutMs} ms` : 'connection reset',
          opened: true,
        };
      }
    } finally {
      idle.cancel();
      stop.signal.removeEventListener('abort', onStop);
    }
  };

  // The clock's timers are unref'ed: while the tail waits to reconnect nothing else would keep the process
  // alive, and `main` treats an empty event loop as a failure. Hold the loop open until the tail returns.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    let lostAt: number | undefined;
    let delay = FIRST_RETRY_MS;
    let connected = false;
    for (;;) {
      const outcome = await follow(connected);
      if (outcome.kind === 'stopped' || stopped()) break;
      if (outcome.opened) connected = true;
      if (outcome.opened && outcome.failed !== true) lostAt = undefined;
      if (!connected) {
        // Never reached: fail at once, like the other commands.
        throw new FoundationError('FND_EXTERNAL_NETWORK_ERROR', {
          message: `Cannot reach the control bus at ${base.origin} (${outcome.reason})`,
          context: { url: url.href, reason: outcome.reason },
        });
      }
      if (lostAt === undefined) {
        lostAt = clock.monotonic();
        delay = FIRST_RETRY_MS;
        io.err(`foundation: lost the control bus at ${base.origin} (${outcome.reason}); reconnecting…`);
      } else if (clock.monotonic() - lostAt >= retryForMs) {
        throw new FoundationError('FND_EXTERNAL_NETWORK_ERROR', {
          message:
            `The control bus at ${base.origin} went away: no connection for ${retryForMs} ms ` +
            `(${outcome.reason})${resumeHint()}`,
          context: { url: url.href, reason: outcome.reason, lastEventId: lastId, received },
        });
      }
      await pause(clock, delay, stop.signal);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
      if (stopped()) break;
    }
    io.err(`foundation: stopped after ${received} event${received === 1 ? '' : 's'}${resumeHint()}`);
    return EXIT.ok;
  } finally {
    clearInterval(keepAlive);
    for (const off of unlisten) off();
  }
}
