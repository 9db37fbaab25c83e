/** Starts a table worker (table-worker.ts) for one of the HTTP routes' tables in DATA_DIR's SQLite file. */
import type { TableName, TableWorkerData } from './table-worker.ts';
import { WorkerClient, type WorkerApi } from './worker-rpc.ts';

/** Resolves once the worker opened the database and made its table; rejects (RELAY_STORAGE_FAILED) if it cannot. */
export function openTableWorker<Api extends WorkerApi>(dataDir: string, table: TableName): Promise<WorkerClient<Api>> {
  return WorkerClient.start<Api>(new URL('./table-worker.ts', import.meta.url), { dataDir, table } satisfies TableWorkerData, `${table} table`);
}
