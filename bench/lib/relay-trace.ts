/**
 * Probe only (`BENCH_RELAY_TRACE=file`, read by bench/probe-edit.ts): timestamps of one
 * message's path through a server process, on the machine-wide monotonic clock
 * (`process.hrtime`, CLOCK_MONOTONIC, comparable across processes). Patches the installed
 * Hocuspocus (Connection.handleMessage, Connection.send) and wraps each extension's hooks and
 * the relay store's append; nothing changes what the server does. Off unless the variable is set.
 */
import { writeFileSync } from 'node:fs';
import { Connection, type Server } from '@hocuspocus/server';
import { isSyncStatus } from '../../server/durable-ack.ts';

export type TraceEvent = [t: number, what: string];
const events: TraceEvent[] = [];
export const hr = (): number => Number(process.hrtime.bigint()) / 1e6;
const note = (what: string) => events.push([hr(), what]);

const HOOKS = ['beforeHandleMessage', 'beforeSync', 'afterHandleMessage', 'onChange'] as const;

export function installRelayTrace(server: Server, store?: { append: (...a: never[]) => Promise<unknown> }): ((file: string) => void) | undefined {
  const file = process.env.BENCH_RELAY_TRACE;
  if (!file) return undefined;
  server.httpServer.on('connection', (socket) => socket.on('data', () => note('socket data')));
  const proto = Connection.prototype as unknown as { handleMessage(d: Uint8Array): void; send(m: Uint8Array): void };
  const handle = proto.handleMessage;
  proto.handleMessage = function (d) {
    note('handleMessage');
    return handle.call(this, d);
  };
  const send = proto.send;
  proto.send = function (m) {
    note(isSyncStatus(m) ? 'send ack' : 'send');
    return send.call(this, m);
  };
  server.hocuspocus.configuration.extensions.forEach((ext, i) => {
    const e = ext as unknown as Record<string, unknown>;
    const name = (e.extensionName as string | undefined) ?? `ext${i}`;
    for (const hook of HOOKS) {
      const f = e[hook];
      if (typeof f !== 'function') continue;
      e[hook] = async function (this: unknown, payload: unknown) {
        note(`${hook} ${name} start`);
        try {
          return await (f as (p: unknown) => unknown).call(this, payload);
        } finally {
          note(`${hook} ${name} end`);
        }
      };
    }
    if (typeof e.persistAccepted === 'function') {
      const f = e.persistAccepted as (a: unknown) => void;
      e.persistAccepted = (a: unknown) => {
        note('persistAccepted');
        f(a);
      };
    }
  });
  if (store) {
    const append = store.append.bind(store);
    store.append = (async (...a: never[]) => {
      note('append start');
      const p = append(...a);
      note('append posted');
      try {
        return await p;
      } finally {
        note('append committed');
      }
    }) as typeof store.append;
  }
  return (f: string) => writeFileSync(f, JSON.stringify(events));
}

export function writeRelayTrace(dump: ((file: string) => void) | undefined): void {
  const file = process.env.BENCH_RELAY_TRACE;
  if (dump && file) dump(`${file}.${process.pid}.json`);
}
