/**
 * A loopback WebSocket proxy core: pairs each client connection with an upstream one to
 * `target`, queues client frames until upstream is open, closes both sides together. What
 * happens to each frame is the caller's: `pipe(to)` returns the forwarder for one direction.
 * Used by the misbehaving nemesis (tests) and the byte-counting proxy (benchmarks).
 */
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export type Forward = (frame: Uint8Array) => void;
export type Direction = 'up' | 'down';

export interface WsProxy {
  readonly url: string;
  /** Terminates every open connection (clients reconnect by themselves). */
  cutAll(): void;
  close(): Promise<void>;
}

const toBytes = (data: RawData): Uint8Array =>
  data instanceof Buffer ? new Uint8Array(data) : Array.isArray(data) ? new Uint8Array(Buffer.concat(data)) : new Uint8Array(data as ArrayBuffer);

/** Sends to `to` if it is open; a frame for a closed socket is dropped, as on a real network. */
export const sendIfOpen = (to: WebSocket, frame: Uint8Array): void => {
  if (to.readyState === WebSocket.OPEN) to.send(frame);
};

export async function startWsProxy(o: {
  target: string;
  pipe: (to: WebSocket, direction: Direction) => Forward;
  wsOptions?: { perMessageDeflate?: boolean; maxPayload?: number };
}): Promise<WsProxy> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...o.wsOptions });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const sockets = new Set<WebSocket>();
  server.on('connection', (client, req) => {
    const upstream = new WebSocket(o.target + (req.url ?? '/'), o.wsOptions);
    sockets.add(client);
    sockets.add(upstream);
    const pending: Uint8Array[] = [];
    const toUpstream = o.pipe(upstream, 'up');
    const toClient = o.pipe(client, 'down');
    client.on('message', (data) => {
      const b = toBytes(data);
      if (upstream.readyState === WebSocket.OPEN) toUpstream(b);
      else pending.push(b);
    });
    upstream.on('open', () => {
      for (const b of pending.splice(0)) toUpstream(b);
    });
    upstream.on('message', (data) => toClient(toBytes(data)));
    const closeBoth = () => {
      client.terminate();
      upstream.terminate();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('close', closeBoth);
      s.on('error', closeBoth);
    }
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const cutAll = () => {
    for (const s of sockets) s.terminate();
    sockets.clear();
  };
  return {
    url: `ws://127.0.0.1:${port}`,
    cutAll,
    async close() {
      cutAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
