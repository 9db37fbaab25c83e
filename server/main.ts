/** `npm start`: the relay and the built web app on one port, embedded SQLite storage. */
import { fileURLToPath } from 'node:url';
import { configFromEnv } from './config.ts';
import { startRelay } from './relay.ts';

const staticDir = fileURLToPath(new URL('../build', import.meta.url));
const relay = await startRelay(configFromEnv(process.env, { staticDir }));
console.log(`Family Health Vault on ${relay.httpUrl} (data in ${relay.config.dataDir})`);

const stop = async () => {
  await relay.destroy();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// Without storage nothing can be acknowledged: exit, so a supervisor restarts the relay. Every
// update acknowledged so far is on disk; clients resend the rest when they reconnect.
void relay.storageLost.then((error) => {
  console.error(`[relay] ${error.code}: ${error.message}`);
  process.exit(1);
});
