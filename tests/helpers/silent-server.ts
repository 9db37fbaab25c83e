/**
 * Relays that do not answer, for tests of what a client does without one: a TCP server that takes
 * connections and never speaks (the WebSocket handshake never completes), and a port nothing
 * listens on (the connection is refused).
 */
import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  readonly port: number;
  /** `ws://127.0.0.1:<port>` */
  readonly url: string;
  /** Drops every connection it holds and stops listening. */
  close(): Promise<void>;
}

/** Accepts TCP connections on a loopback port and never answers. */
export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => void sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A loopback port that was free a moment ago and nothing listens on now: connections are refused. */
export async function closedPort(): Promise<number> {
  const silent = await silentServer();
  await silent.close();
  return silent.port;
}
