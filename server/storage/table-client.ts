/** Starts a table worker (table-worker.ts) for one of the HTTP routes' tables in DATA_DIR's SQLite file. */
import type { TableName, TableWorkerData } from './table-worker.ts';
import { WorkerClient, type WorkerApi } from './worker-rpc.ts';

/**
 * The worker starts in the background: requests sent before it opened the database wait in its
 * port and are answered in order; if it cannot open the database they fail (RELAY_STORAGE_FAILED).
 */
export function tableWorker<Api extends WorkerApi>(dataDir: string, table: TableName): WorkerClient<Api> {
  return WorkerClient.spawn<Api>(new URL('./table-worker.ts', import.meta.url), { dataDir, table } satisfies TableWorkerData, `${table} table`);
}
