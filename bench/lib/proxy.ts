/**
 * A faithful WebSocket proxy that counts bytes: every frame is forwarded unchanged, in order,
 * and its payload size is added to the counter of its direction. Put it between clients and a
 * server to measure "bytes on the wire" the same way for the encrypted relay and its plaintext peer.
 */
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface CountingProxy {
  readonly url: string;
  readonly counts: { up: number; down: number; framesUp: number; framesDown: number };
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

const size = (data: RawData): number =>
  Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : (data as Buffer | ArrayBuffer).byteLength;

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const counts = { up: 0, down: 0, framesUp: 0, framesDown: 0 };
  const sockets = new Set<WebSocket>();
  server.on('connection', (client, req) => {
    const upstream = new WebSocket(target + (req.url ?? '/'), { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    sockets.add(client);
    sockets.add(upstream);
    const pending: Array<{ data: RawData; binary: boolean }> = [];
    client.on('message', (data, binary) => {
      counts.up += size(data);
      counts.framesUp++;
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      else pending.push({ data, binary });
    });
    upstream.on('open', () => {
      for (const p of pending.splice(0)) upstream.send(p.data, { binary: p.binary });
    });
    upstream.on('message', (data, binary) => {
      counts.down += size(data);
      counts.framesDown++;
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    const closeBoth = () => {
      if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close();
      if (upstream.readyState === WebSocket.OPEN) upstream.close();
      else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    counts,
    total: () => counts.up + counts.down,
    reset() {
      counts.up = counts.down = counts.framesUp = counts.framesDown = 0;
    },
    async close() {
      for (const s of sockets) s.terminate();
      sockets.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
