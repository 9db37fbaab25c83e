/**
 * A faithful WebSocket proxy that counts bytes: every frame is forwarded unchanged, in order,
 * and its payload size is added to the counter of its direction. Put it between clients and a
 * server to measure "bytes on the wire" the same way for the encrypted relay and its plaintext peer.
 */
import { sendIfOpen, startWsProxy } from '../../tests/helpers/ws-proxy.ts';

export interface CountingProxy {
  readonly url: string;
  readonly counts: { up: number; down: number; framesUp: number; framesDown: number };
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const counts = { up: 0, down: 0, framesUp: 0, framesDown: 0 };
  const proxy = await startWsProxy({
    target,
    wsOptions: { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 },
    pipe: (to, direction) => (frame) => {
      if (direction === 'up') {
        counts.up += frame.byteLength;
        counts.framesUp++;
      } else {
        counts.down += frame.byteLength;
        counts.framesDown++;
      }
      sendIfOpen(to, frame);
    },
  });
  return {
    url: proxy.url,
    counts,
    total: () => counts.up + counts.down,
    reset() {
      counts.up = counts.down = counts.framesUp = counts.framesDown = 0;
    },
    close: proxy.close,
  };
}
