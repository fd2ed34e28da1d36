/**
 * Child process of the kill -9 durability test: opens a foundation on the store URL given as its argument
 * and appends events until it is killed — single appends, batches, and groups of concurrent appends (so
 * group commit is exercised) — writing one `ack <json>` line per event to stdout only after its append
 * resolved. Writes to a pipe are synchronous on Linux, so every line the parent reads stands for an
 * acknowledged event.
 *
 * Run: `node --import tsx test/helpers/append-child.ts <store-url>` (from the repository root).
 *
 * @module
 */
import { createFoundation } from '../../src/app/foundation.js';
import type { AppendResult } from '../../src/events/model/types.js';

/** What the child reports for each acknowledged event. */
export interface AckedEvent {
  readonly id: string;
  readonly type: string;
  readonly stream: string | null;
  readonly streamVersion: number | null;
  readonly position: number;
  readonly data: unknown;
}

/** Writes the acknowledgement lines of an append. */
function ack(result: AppendResult): void {
  let lines = '';
  for (const event of result.events) {
    const acked: AckedEvent = {
      id: event.id,
      type: event.type,
      stream: event.stream,
      streamVersion: event.streamVersion,
      position: event.position,
      data: event.data,
    };
    lines += `ack ${JSON.stringify(acked)}\n`;
  }
  process.stdout.write(lines);
}

async function main(): Promise<void> {
  const store = process.argv[2];
  if (store === undefined) throw new Error('usage: append-child <store-url>');
  const foundation = createFoundation({ name: 'append-child', store });
  await foundation.start();
  const events = foundation.events;
  process.stdout.write('ready\n');
  let seq = 0;
  for (let round = 0; ; round++) {
    // one writer, one event at a time, on a few streams
    for (let i = 0; i < 3; i++) {
      ack(await events.append({ type: 'kill.single', stream: `single-${i}`, data: { seq: seq++, round } }));
    }
    // a batch, all-or-nothing, checked against the stream's version
    const batchStream = 'batch-0';
    const version = await events.streamVersion(batchStream);
    ack(
      await events.append(
        Array.from({ length: 5 }, () => ({
          type: 'kill.batch',
          stream: batchStream,
          data: { seq: seq++, round },
        })),
        { expectedVersion: version },
      ),
    );
    // concurrent single appends: grouped into shared transactions by the service
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        events
          .append({
            type: 'kill.concurrent',
            ...(i % 4 === 3 ? {} : { stream: `concurrent-${i % 3}` }),
            data: { seq: seq++, round, text: 'x'.repeat(i * 10) },
          })
          .then(ack),
      ),
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `append-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
