/**
 * connect() never hangs: a socket told to disconnect while it is still connecting (a relay that
 * accepted the TCP connection and never answered) may never report "disconnected", and the
 * next connect() must still return within its bound; so must the first, with each attempt
 * bounded by connectTimeoutMs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { testRelay } from '../helpers/relay.ts';
import { silentServer, type SilentServer } from '../helpers/silent-server.ts';
import { sendIfOpen, startWsProxy } from '../helpers/ws-proxy.ts';

let server: SilentServer | undefined;
const profiles: Profile[] = [];
afterEach(async () => {
  for (const p of profiles.splice(0)) await p.close();
  await server?.close();
  server = undefined;
});

describe('relay connection', () => {
  it('a relay that accepts TCP and never answers: connect() returns within its bound, also after a disconnect mid-handshake', async () => {
    server = await silentServer(); // accepts, never speaks WebSocket
    const p = await Profile.create({ signer: generateSigningKeyPair(), relayUrl: server.url, minReconnectDelayMs: 50, connectTimeoutMs: 1000 });
    profiles.push(p);
    p.disconnect();
    const started = Date.now();
    const result = await Promise.race([p.connect().then(() => 'returned'), new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
    expect(result).toBe('returned');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('back online: reconnectNow() connects at once instead of at the end of the back-off; not after a deliberate disconnect', async () => {
    const relay = await testRelay();
    const proxy = await startWsProxy({ target: relay.url, pipe: (to) => (frame) => sendIfOpen(to, frame) });
    try {
      // A back-off floor of 60 s: no retry of its own can come within this test.
      const p = await Profile.create({ signer: generateSigningKeyPair(), relayUrl: proxy.url, minReconnectDelayMs: 60_000 });
      profiles.push(p);
      await p.status.when((s) => s.synced, 10_000);
      proxy.cutAll(); // the network drops
      await p.status.when((s) => s.connection === 'offline', 10_000);
      p.reconnectNow(); // the browser's "online" event
      await p.status.when((s) => s.synced, 10_000);
      // After a deliberate disconnect, "online" does not reconnect.
      p.disconnect();
      await p.status.when((s) => s.connection === 'offline', 10_000);
      p.reconnectNow();
      expect(engineOf(p).connection!.connection.value).toBe('offline');
    } finally {
      await proxy.close();
      await relay.destroy();
    }
  });
});
