/**
 * Test helper: a minimal server-sent-events client over `fetch`, collecting events so a test can wait for
 * the next one that matches.
 *
 * @module
 */

/** One received event. Comments (heartbeats) are kept with `event: 'comment'`. */
export interface ReceivedEvent {
  readonly event: string;
  readonly data: string;
}

/** An open event stream. */
export interface EventStreamClient extends AsyncDisposable {
  readonly response: Response;
  /** Every event received so far, in order. */
  readonly events: readonly ReceivedEvent[];
  /** Resolves with the first event after the `after`-th (default: any so far) that matches `predicate`. */
  next(predicate: (event: ReceivedEvent) => boolean, after?: number): Promise<ReceivedEvent>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens `url` as an event stream. */
export async function openEventStream(url: string | URL): Promise<EventStreamClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  const events: ReceivedEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  let done = false;

  const parse = (block: string): void => {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        events.push({ event: 'comment', data: line.slice(1).trim() });
      } else if (line.startsWith('event:')) {
        event = line.slice(6).trim();
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  };

  const ended = (async () => {
    const body = response.body;
    if (body === null) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      const reader = body.getReader();
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) break;
        buffer += decoder.decode(value, { stream: true });
        let index: number;
        while ((index = buffer.indexOf('\n\n')) !== -1) {
          parse(buffer.slice(0, index));
          buffer = buffer.slice(index + 2);
        }
        notify();
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      notify();
    }
  })();

  const client: EventStreamClient = {
    response,
    events,
    ended,
    next(predicate, after = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.slice(after).find(predicate);
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`event stream ended before a matching event (${events.length} received)`));
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
  return client;
}
