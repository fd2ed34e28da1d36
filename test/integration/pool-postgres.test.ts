/**
 * The resource pool with real PostgreSQL connections (`pg.Client`) as its resources, through a TCP proxy that
 * the tests cut and restore: validation on borrow drops dead clients, creation backs off while the server is
 * unreachable (the gaps between attempts are at least the backoff: lower bounds only, never a timed upper
 * bound), and the pool recovers by itself when the server is back. Backends killed by the server
 * (`pg_terminate_backend`) are dropped the same way. Each run uses a fresh schema.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FoundationError } from '../../src/errors/index.js';
import { createPool, type Pool } from '../../src/protection/pool/index.js';
import { createTestSchema, describePg, pgExec, pgTestUrl, type TestSchema } from '../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/** The test server's URL pointed at the proxy, with an application name to find its backends. */
function throughProxy(port: number, applicationName: string): string {
  const parsed = new URL(pgTestUrl());
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

interface Probe {
  /** performance.now() of every create call. */
  readonly createCalls: number[];
  created: number;
  destroyed: number;
  invalid: number;
}

function clientPool(
  url: string,
  schema: string,
  probe: Probe,
  max: number,
  min = 0,
  queryTimeoutMs?: number,
): Pool<pg.Client> {
  return createPool<pg.Client>({
    name: 'pg-test',
    create: async () => {
      probe.createCalls.push(performance.now());
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: 2000,
        options: `-c search_path=${schema}`,
        ...(queryTimeoutMs === undefined ? {} : { query_timeout: queryTimeoutMs }),
      });
      // A dead connection must not crash the process: the pool finds it on borrow.
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      probe.created += 1;
      return client;
    },
    destroy: async (client) => {
      probe.destroyed += 1;
      await client.end().catch(() => undefined);
    },
    validate: async (client) => {
      try {
        await client.query('SELECT 1');
        return true;
      } catch {
        probe.invalid += 1;
        return false;
      }
    },
    min,
    max,
    acquireTimeoutMs: 20_000,
    idleTimeoutMs: 60_000,
    createRetry: { initialMs: 20, maxMs: 160 },
  });
}

function newProbe(): Probe {
  return { createCalls: [], created: 0, destroyed: 0, invalid: 0 };
}

async function terminateBackends(applicationName: string): Promise<number> {
  const result = await pgExec(
    'SELECT pg_terminate_backend(pid, 5000) AS killed FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [applicationName],
  );
  return result.rowCount ?? 0;
}

describePg('createPool with PostgreSQL connections', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  const app = `fnd_pool_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    schema = await createTestSchema();
    await pgExec(`CREATE TABLE "${schema.schema}".hits (id serial PRIMARY KEY, worker int NOT NULL)`);
    const target = new URL(pgTestUrl());
    proxy = await startTcpProxy({
      host: target.hostname,
      port: Number(target.port === '' ? 5432 : target.port),
    });
  });

  afterAll(async () => {
    await proxy.close();
    await schema.drop();
  });

  it('lends at most max connections to many concurrent callers, each query on a live client', async () => {
    const probe = newProbe();
    const pool = clientPool(throughProxy(proxy.port, `${app}_a`), schema.schema, probe, 3);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        pool.use(async (client) => {
          await client.query('INSERT INTO hits (worker) VALUES ($1)', [i]);
          const { rows } = await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM hits WHERE worker = $1',
            [i],
          );
          return Number(rows[0]?.n);
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 40 }, () => 1));
    expect(probe.created).toBeLessThanOrEqual(3);
    expect(pool.status()).toMatchObject({ inUse: 0, waiting: 0, size: probe.created });
    const backends = await pgExec(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [`${app}_a`],
    );
    expect(backends.rows[0]).toEqual({ n: probe.created });
    await pool.drain();
    expect(probe.destroyed).toBe(probe.created);
  });

  it('server gone: validation drops the dead clients, creation backs off while it is down, then recovers', async () => {
    const probe = newProbe();
    const pool = clientPool(throughProxy(proxy.port, `${app}_b`), schema.schema, probe, 2, 2);
    pool.start();
    await expect.poll(() => pool.status().idle, { timeout: 10_000 }).toBe(2);

    await proxy.cut();
    const callsBefore = probe.createCalls.length;
    const waiting = pool.acquire();
    // Both idle clients are found dead on borrow and destroyed; new connections are refused meanwhile.
    await expect.poll(() => probe.invalid, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => pool.status().createFailures, { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
    expect(pool.status()).toMatchObject({ size: 0, waiting: 1 });
    // Never a spin: after the first failures, one attempt at a time, each at least the backoff after the last.
    const attempts = probe.createCalls.slice(callsBefore);
    const failures = pool.status().createFailures;
    expect(attempts.length).toBeGreaterThanOrEqual(failures);
    for (let k = 3; k < failures; k += 1) {
      const gap = (attempts[k] as number) - (attempts[k - 1] as number);
      expect(gap).toBeGreaterThanOrEqual(19);
    }

    await proxy.restore();
    const lease = await waiting;
    const { rows } = await lease.resource.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
    lease.release();
    expect(pool.status().createFailures).toBe(0);
    await expect.poll(() => pool.status().size, { timeout: 10_000 }).toBe(2);
    const sums = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pool.use(async (c) => (await c.query<{ v: number }>('SELECT $1::int AS v', [i])).rows[0]?.v),
      ),
    );
    expect(sums).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await pool.drain();
    expect(probe.destroyed).toBe(probe.created);
  });

  it('an acquire during an outage times out with FND_PROTECT_TIMEOUT carrying the connection error', async () => {
    const probe = newProbe();
    const pool = clientPool(throughProxy(proxy.port, `${app}_c`), schema.schema, probe, 1);
    await proxy.cut();
    try {
      const error = await pool.acquire({ timeoutMs: 300 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FoundationError);
      expect((error as FoundationError).code).toBe('FND_PROTECT_TIMEOUT');
      expect((error as FoundationError).context).toMatchObject({ layer: 'pool', policy: 'pg-test' });
      expect((error as FoundationError).cause).toBeInstanceOf(Error);
    } finally {
      await proxy.restore();
    }
    const lease = await pool.acquire();
    expect((await lease.resource.query('SELECT 1')).rowCount).toBe(1);
    lease.release();
    await pool.drain();
    expect(probe.destroyed).toBe(probe.created);
  });

  it('backends killed by the server are dropped on borrow; a lent one that broke is destroyed by its user', async () => {
    const probe = newProbe();
    const name = `${app}_d`;
    const pool = clientPool(throughProxy(proxy.port, name), schema.schema, probe, 2, 2);
    pool.start();
    await expect.poll(() => pool.status().idle, { timeout: 10_000 }).toBe(2);
    const lent = await pool.acquire();
    expect(await terminateBackends(name)).toBe(2);
    // The lent client broke under its user, who hands it back broken.
    await expect(lent.resource.query('SELECT 1')).rejects.toThrow();
    lent.destroy();
    // The idle one is found dead on borrow.
    const fresh = await pool.acquire();
    expect((await fresh.resource.query('SELECT 1')).rowCount).toBe(1);
    expect(probe.invalid).toBeGreaterThanOrEqual(1);
    fresh.release();
    await pool.drain();
    expect(probe.destroyed).toBe(probe.created);
  });

  it('a server that stops answering (half-open): validation with its own timeout drops the client; recovery after', async () => {
    const probe = newProbe();
    const pool = clientPool(throughProxy(proxy.port, `${app}_e`), schema.schema, probe, 1, 1, 300);
    pool.start();
    await expect.poll(() => pool.status().idle, { timeout: 10_000 }).toBe(1);
    proxy.freeze();
    const waiting = pool.acquire();
    try {
      await expect.poll(() => probe.invalid, { timeout: 10_000 }).toBe(1);
      // New connections hang too (connectionTimeoutMillis) and fail: the pool backs off.
      await expect.poll(() => pool.status().createFailures, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
      expect(pool.status()).toMatchObject({ size: 0, waiting: 1 });
    } finally {
      proxy.thaw();
    }
    const lease = await waiting;
    expect((await lease.resource.query('SELECT 1')).rowCount).toBe(1);
    lease.release();
    await pool.drain();
    expect(probe.destroyed).toBe(probe.created);
  }, 30_000);
});
