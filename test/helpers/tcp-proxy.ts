/**
 * A small TCP proxy for outage tests: clients connect to the proxy, which pipes to the real server. `cut()`
 * destroys every connection and stops listening (the server looks gone: refused connections); `restore()`
 * listens again on the same port. `freeze()` keeps every connection open but drops what flows through it
 * (a half-open connection: the server never answers); `thaw()` forwards again for new connections.
 *
 * @module
 */
import net from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** The local port clients connect to (stable across cut/restore). */
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection and stops listening. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Cuts, for good. */
  close(): Promise<void>;
  /** From now on, bytes in either direction are dropped; connections stay open. */
  freeze(): void;
  /** Ends a freeze: connections made afterwards are forwarded again (frozen ones stay silent). */
  thaw(): void;
}

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `target`. */
export async function startTcpProxy(target: {
  readonly host: string;
  readonly port: number;
}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let server: net.Server | undefined;
  let frozen = false;
  const silenced = new WeakSet<net.Socket>();

  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const listen = (port: number): Promise<net.Server> =>
    new Promise((resolve, reject) => {
      const s = net.createServer((client) => {
        accepted++;
        const upstream = net.connect(target.port, target.host);
        track(client);
        track(upstream);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        const forward = (from: net.Socket, to: net.Socket): void => {
          from.on('data', (chunk: Buffer) => {
            if (frozen) silenced.add(from);
            if (!silenced.has(from) && !to.destroyed) to.write(chunk);
          });
        };
        forward(client, upstream);
        forward(upstream, client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(s);
      });
    });

  server = await listen(0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  const port = address.port;

  const cut = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s !== undefined)
      await new Promise<void>((resolve) => {
        s.close(() => {
          resolve();
        });
      });
  };

  return {
    port,
    get accepted() {
      return accepted;
    },
    cut,
    async restore(): Promise<void> {
      if (server === undefined) server = await listen(port);
    },
    close: cut,
    freeze(): void {
      frozen = true;
    },
    thaw(): void {
      frozen = false;
    },
  };
}
