/** `npm start`: the relay and the built web app on one port, embedded SQLite storage. */
import { fileURLToPath } from 'node:url';
import { configFromEnv } from './config.ts';
import { routeLibraryConsole } from './log.ts';
import { startRelay } from './relay.ts';

const staticDir = fileURLToPath(new URL('../build', import.meta.url));
const config = configFromEnv(process.env, { staticDir });
// The libraries' own console lines name documents: routed into coded, rate-limited events (server/log.ts).
Object.assign(console, routeLibraryConsole(config.logger, config.now));
const relay = await startRelay(config);
const log = relay.config.logger;
log('info', 'listening', { url: relay.httpUrl, ...(relay.metricsUrl ? { metrics: relay.metricsUrl } : {}) });
// For people and scripts starting it (on stdout); the JSON log lines go to stderr.
console.log(`Family Health Vault on ${relay.httpUrl} (data in ${relay.config.dataDir})`);

/**
 * Graceful shutdown (docs/operations.md): readiness fails at once, every document is folded and
 * stored, clients are closed so they reconnect elsewhere, storage is closed; exit 0. A second
 * signal, or a shutdown past its deadline, exits 1 at once: every acknowledged update is
 * already durable, so nothing acknowledged is lost either way.
 */
let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    log('warn', 'shutdown_forced', { signal });
    process.exit(1);
  }
  stopping = true;
  log('info', 'shutdown_started', { signal });
  const deadline = setTimeout(() => {
    log('error', 'shutdown_timed_out', { ms: relay.config.shutdownTimeoutMs });
    process.exit(1);
  }, relay.config.shutdownTimeoutMs);
  deadline.unref();
  relay.destroy().then(
    () => {
      log('info', 'shutdown_done');
      process.exit(0);
    },
    (e: unknown) => {
      log('error', 'shutdown_failed', { code: (e as { code?: string }).code ?? 'error' });
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

// Without storage nothing can be acknowledged: exit, so a supervisor restarts the relay. Every
// update acknowledged so far is on disk; clients resend the rest when they reconnect.
void relay.storageLost.then((error) => {
  log('error', 'storage_lost', { code: error.code });
  process.exit(1);
});
