/**
 * Test helper for `GET /api/events/stream`: a server-sent-events client over `fetch` that keeps each
 * message's `id`, and a raw `node:http` client whose reading can be paused (a slow consumer).
 *
 * @module
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { SseParser, type SseMessage } from '../../src/cli/sse-reader.js';
import type { StoredEvent } from '../../src/events/model/types.js';

/** An open event stream that collects messages. */
export interface SseClient extends AsyncDisposable {
  readonly response: Response;
  /** Every message received so far (comments excluded), in order. */
  readonly messages: readonly SseMessage[];
  /** Heartbeat comments received. */
  readonly comments: number;
  /** The events of the `event` messages so far. */
  events(): StoredEvent[];
  /** Resolves once at least `count` `event` messages arrived; rejects if the stream ends first. */
  waitForEvents(count: number): Promise<StoredEvent[]>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens `url` as an event stream, with extra request headers (e.g. `last-event-id`). */
export async function openSse(url: string | URL, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const messages: SseMessage[] = [];
  let comments = 0;
  const waiters = new Set<() => void>();
  let done = false;
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const ended = (async () => {
    const body = response.body;
    if (body === null) return;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      const reader = body.getReader();
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) break;
        const text = decoder.decode(value, { stream: true });
        comments += (text.match(/^: heartbeat$/gm) ?? []).length;
        messages.push(...parser.push(text));
        notify();
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      notify();
    }
  })();
  const events = (): StoredEvent[] =>
    messages.filter((m) => m.event === 'event').map((m) => JSON.parse(m.data) as StoredEvent);
  return {
    response,
    messages,
    get comments() {
      return comments;
    },
    events,
    ended,
    waitForEvents(count) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const received = events();
          if (received.length >= count) {
            waiters.delete(check);
            resolve(received);
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`stream ended after ${received.length} of ${count} events`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      abort.abort();
    },
    async [Symbol.asyncDispose]() {
      abort.abort();
      await ended;
    },
  };
}

/** A raw streaming request whose reading starts paused. */
export interface PausedClient extends AsyncDisposable {
  readonly response: IncomingMessage;
  /** Starts reading; resolves once `count` `event` messages arrived in total. */
  readAll(count: number): Promise<SseMessage[]>;
}

/** Opens `url` with `node:http` and does not read the body until {@link PausedClient.readAll}. */
export function openPaused(url: string | URL): Promise<PausedClient> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { accept: 'text/event-stream' } }, (response) => {
      response.pause();
      resolve({
        response,
        readAll(count) {
          return new Promise((done, fail) => {
            const parser = new SseParser();
            const messages: SseMessage[] = [];
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              for (const message of parser.push(chunk)) if (message.event === 'event') messages.push(message);
              if (messages.length >= count) done(messages);
            });
            response.on('end', () => {
              fail(new Error(`stream ended after ${messages.length} of ${count} events`));
            });
            response.resume();
          });
        },
        async [Symbol.asyncDispose]() {
          request.destroy();
          response.destroy();
          await Promise.resolve();
        },
      });
    });
    request.on('error', reject);
    request.end();
  });
}
