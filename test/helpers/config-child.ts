/**
 * Child process of the multi-process config test: opens a foundation on the store URL given as its first
 * argument (its node name is the second, its data directory the third), then answers commands read from stdin, one JSON object a line,
 * with one JSON line each on stdout. Besides the answers it writes a `version` line for every version it
 * applies (its own and other nodes'), with the wall time it saw it, so the parent can check the order and
 * measure propagation.
 *
 * Commands (`{ "id": 1, "op": "update", ... }`):
 * - `version` → the current version; `snapshot` → the whole config (secrets included: a test child);
 * - `get { path }` → the value;
 * - `update { path, value, options? }`, `updateBatch { changes, options? }` → the update result;
 * - `burst { path, count }` → `count` updates of `path` to 1..count, one after the other, each retried on
 *   `FND_CONFIG_VERSION_CONFLICT`; answers the versions it wrote and how many conflicts it met;
 * - `history { limit? }` → version infos; `observed` → every version it applied, in order;
 * - `stop` → stops the foundation and exits.
 *
 * Answers: `{ "id", "ok": true, "result" }` or `{ "id", "ok": false, "code", "message" }`.
 * Unsolicited lines: `{ "ready": true, "version" }` after start, `{ "version", "at" }` per applied version.
 * With `deferred` as the fourth argument it first writes `{ "loaded": true }` and starts the foundation only
 * when the first line arrives on stdin (its text is ignored), so several processes can start at once.
 *
 * Run: `node --import tsx test/helpers/config-child.ts <store-url> <name> <data-dir> [deferred]` (from the repository root).
 *
 * @module
 */
import { createInterface } from 'node:readline';
import { createFoundation } from '../../src/app/foundation.js';
import { FoundationError } from '../../src/errors/index.js';
import { multiProcessConfig, type ChildCommand } from './config-child-shared.js';

function write(line: unknown): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const [store, name, dataDir, deferred] = process.argv.slice(2);
  if (store === undefined || name === undefined || dataDir === undefined) {
    throw new Error('usage: config-child <store-url> <name> <data-dir>');
  }
  const foundation = createFoundation({ name, store, dataDir, config: multiProcessConfig });
  const config = foundation.config;
  const observed: number[] = [];
  let last = 0;
  const see = (): void => {
    // Every version this node applies (a version with no change of this node's config included).
    const version = config.version;
    if (version !== last) {
      last = version;
      observed.push(version);
      write({ version, at: Date.now() });
    }
  };
  config.subscribe('', { onChange: see });
  const lines = createInterface({ input: process.stdin });
  if (deferred === 'deferred') {
    // Loaded: wait for the parent's `go` line, so several processes start at the same moment.
    write({ loaded: true });
    await new Promise<void>((resolve) =>
      lines.once('line', () => {
        resolve();
      }),
    );
  }
  await foundation.start();
  see();
  write({ ready: true, version: config.version });

  const run = async (command: ChildCommand): Promise<unknown> => {
    switch (command.op) {
      case 'version':
        return config.version;
      case 'snapshot':
        return config.snapshot();
      case 'get':
        return config.get(command.path as 'mode');
      case 'update':
        return config.update(command.path as string, command.value, command.options as never);
      case 'updateBatch':
        return config.updateBatch(command.changes as never, command.options as never);
      case 'burst': {
        const written: number[] = [];
        let conflicts = 0;
        for (let value = 1; value <= (command.count as number); value += 1) {
          for (;;) {
            try {
              const result = await config.update(command.path as string, value);
              see();
              written.push(result.version);
              break;
            } catch (error) {
              if (error instanceof FoundationError && error.code === 'FND_CONFIG_VERSION_CONFLICT') {
                conflicts += 1;
                continue;
              }
              throw error;
            }
          }
        }
        return { written, conflicts };
      }
      case 'history':
        return config.history({ limit: (command.limit as number | undefined) ?? 1000 });
      case 'observed':
        return observed;
      case 'stop':
        await foundation.stop();
        return null;
    }
  };

  lines.on('line', (line) => {
    const command = JSON.parse(line) as ChildCommand;
    run(command).then(
      (result) => {
        if (command.op === 'update' || command.op === 'updateBatch') see();
        write({ id: command.id, ok: true, result });
        if (command.op === 'stop') process.exit(0);
      },
      (error: unknown) => {
        const code = error instanceof FoundationError ? error.code : 'unknown';
        write({ id: command.id, ok: false, code, message: error instanceof Error ? error.message : '' });
      },
    );
  });
  lines.on('close', () => {
    void foundation.stop().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `config-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
