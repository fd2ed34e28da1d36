/**
 * Child process of the consumer-group test: one member of the durable group `procs` on the PostgreSQL store
 * given as argument. For each event it handles it writes `start <json>` before and `end <json>` after the
 * handler's work (a few macrotasks), with the wall time; on SIGTERM it stops gracefully (stores checkpoints,
 * releases leases) and exits.
 *
 * Run: `node --import tsx test/events/durable-group-child.ts <store-url> <member>` (from the repository root).
 *
 * @module
 */
import { createEventStore } from '../../src/events/create-event-store.js';
import { createCheckpointStore, durableSubscription } from '../../src/events/subscriptions/durable/index.js';
import { Storage } from '../../src/storage/index.js';
import { GROUP, type HandledLine } from './durable-group-shared.js';

async function main(): Promise<void> {
  const [url, member] = process.argv.slice(2);
  if (url === undefined || member === undefined) throw new Error('usage: durable-group-child <url> <member>');
  const storage = new Storage(url);
  await storage.open();
  const events = createEventStore(storage);
  await events.start();
  const line = (kind: string, body: HandledLine): void => {
    process.stdout.write(`${kind} ${JSON.stringify(body)}\n`);
  };
  const sub = durableSubscription(events, createCheckpointStore(storage), {
    name: 'procs',
    filter: { types: ['proc.*'] },
    from: 'start',
    leaseMs: GROUP.leaseMs,
    heartbeatMs: GROUP.heartbeatMs,
    checkpointEvery: 10,
    checkpointIntervalMs: 100,
    group: { member, partitions: GROUP.partitions },
    handler: async (event, context) => {
      const body = {
        id: event.id,
        stream: event.stream ?? '',
        n: (event.data as { n: number }).n,
        member,
        partition: context.partition,
      };
      line('start', { ...body, at: performance.timeOrigin + performance.now() });
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      line('end', { ...body, at: performance.timeOrigin + performance.now() });
    },
  });
  await sub.start();
  // The foundation's timers are unref'ed: keep this process alive until it is told to stop.
  const keepAlive = setInterval(() => undefined, 60_000);
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    void (async () => {
      clearInterval(keepAlive);
      await sub.stop();
      await events.stop();
      await storage.close();
      process.exit(0);
    })();
  });
  sub.done.catch((error: unknown) => {
    process.stderr.write(`durable-group-child failed: ${String(error)}\n`);
    process.exit(2);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `durable-group-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
