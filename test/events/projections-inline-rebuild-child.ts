/**
 * Child process of the inline rebuild test: a second process on the same SQLite file / PostgreSQL schema. It
 * registers the inline projection given as argument (its record already exists: no backfill), prints
 * `ready`, waits for a line on stdin, appends `count` events one by one to the streams `<name>-c-0..2` (printing
 * `appended <n>` after each), prints `done` and exits.
 *
 * Run: `node --import tsx test/events/projections-inline-rebuild-child.ts <store-url> <projection> <count>`.
 *
 * @module
 */
import { createEventStore } from '../../src/events/create-event-store.js';
import { createProjectionStore } from '../../src/events/projections/create-projection-store.js';
import { Projections } from '../../src/events/projections/projections.js';
import { Storage } from '../../src/storage/index.js';
import { accounts } from './projections-fixtures.js';

async function main(): Promise<void> {
  const [url, name, count] = process.argv.slice(2);
  if (url === undefined || name === undefined || count === undefined) {
    throw new Error('usage: projections-inline-rebuild-child <url> <projection> <count>');
  }
  const storage = new Storage(url);
  await storage.open();
  const events = createEventStore(storage);
  await events.start();
  const projections = new Projections(events, await createProjectionStore(storage));
  await projections.start();
  await projections.register(accounts(name, 'inline'));
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.once('data', () => {
      resolve();
    });
  });
  for (let i = 0; i < Number(count); i++) {
    await events.append({
      type: i % 4 === 3 ? 'account.withdrawn' : 'account.deposited',
      stream: `${name}-c-${i % 3}`,
      data: { amount: i },
    });
    process.stdout.write(`appended ${i + 1}\n`);
  }
  process.stdout.write('done\n');
  await projections.stop();
  await events.stop();
  await storage.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
