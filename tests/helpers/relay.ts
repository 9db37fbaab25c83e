/** Test factories: a real relay on a loopback port with its own temp data dir, torn down by the caller. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '../../server/relay.ts';
import type { RelayConfig } from '../../server/config.ts';

export async function testRelay(overrides: Partial<RelayConfig> = {}): Promise<Relay & { dataDir: string }> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'fhv-relay-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir, storeDebounceMs: 50, ...overrides });
  return {
    ...relay,
    dataDir,
    async destroy() {
      await relay.destroy();
    },
  };
}

export function tempDir(prefix = 'fhv-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
