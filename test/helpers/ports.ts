/**
 * Test helpers for TCP ports: find a free one, hold one busy, tell whether one accepts connections.
 *
 * @module
 */
import { createConnection, createServer, type Server } from 'node:net';

/** A port that was free a moment ago (bound to 127.0.0.1, then released). */
export async function freePort(): Promise<number> {
  const server = await occupyPort();
  const { port } = server;
  await server.release();
  return port;
}

/** A listening server holding a port busy until released. */
export interface OccupiedPort extends AsyncDisposable {
  readonly port: number;
  release(): Promise<void>;
}

/** Binds 127.0.0.1 on a free port (or `port`) and keeps it busy. */
export async function occupyPort(port = 0): Promise<OccupiedPort> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const release = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  return { port: address.port, release, [Symbol.asyncDispose]: release };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}
