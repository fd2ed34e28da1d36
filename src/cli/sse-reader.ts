/**
 * A server-sent-events parser for the CLI: turns the chunks of a `text/event-stream` body into messages
 * (`id`, `event`, `data`), ignoring comments such as heartbeats.
 *
 * @module
 */

/** One server-sent event. */
export interface SseMessage {
  /** The `id` field of this message, if it had one. */
  readonly id: string | undefined;
  /** The `event` field; `message` when absent. */
  readonly event: string;
  /** The `data` lines joined with newlines. */
  readonly data: string;
}

/** Incremental parser: feed it text, collect the complete messages. */
export class SseParser {
  #buffer = '';
  #id: string | undefined;
  #event = '';
  #data: string[] = [];
  #hasData = false;

  /** Parses `text` (any slice of the stream) and returns the messages it completed. */
  push(text: string): SseMessage[] {
    this.#buffer += text;
    const messages: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.#buffer);
      if (match === null) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const message = this.#line(line);
      if (message !== undefined) messages.push(message);
    }
    return messages;
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') {
      if (!this.#hasData) {
        this.#event = '';
        this.#id = undefined;
        return undefined;
      }
      const message: SseMessage = {
        id: this.#id,
        event: this.#event || 'message',
        data: this.#data.join('\n'),
      };
      this.#event = '';
      this.#id = undefined;
      this.#data = [];
      this.#hasData = false;
      return message;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') {
      this.#data.push(value);
      this.#hasData = true;
    } else if (field === 'event') {
      this.#event = value;
    } else if (field === 'id' && !value.includes('\0')) {
      this.#id = value;
    }
    return undefined;
  }
}
