/** Retention on the SQLite event store (a real file in a temp dir). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore } from '../../src/events/event-store.js';
import { createRetentionTarget } from '../../src/events/retention/index.js';
import { SqliteEventStore } from '../../src/events/stores/sqlite-store.js';
import { Storage } from '../../src/storage/index.js';
import { retentionCases } from './retention-cases.js';

retentionCases('sqlite', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'fnd-retention-'));
  const storage = new Storage(`sqlite:${join(dir, 'events.db')}`);
  await storage.open();
  const events = new EventStore(new SqliteEventStore(storage), { clock });
  await events.start();
  return {
    events,
    target: createRetentionTarget(storage),
    cleanup: async () => {
      await events.stop();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
