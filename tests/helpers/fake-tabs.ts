/**
 * Web Locks (exclusive mode: ifAvailable, steal, signal, first-come queue) and BroadcastChannel
 * for several "tabs" in one process: TabClaim's tests (state/tab-claim.ts). Modelled on the
 * spec's behaviour; Chromium itself is exercised by tests/e2e/tabs.test.ts.
 */
interface Request {
  readonly cb: (lock: Lock | null) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export function fakeLocks(): LockManager & { readonly held: boolean } {
  let holder: Request | undefined;
  const queue: Request[] = [];
  const next = () => {
    const r = queue.shift();
    if (r) grant(r);
  };
  const grant = (r: Request) => {
    holder = r;
    const done = (settle: () => void) => {
      if (holder === r) {
        holder = undefined;
        next();
      }
      settle();
    };
    Promise.resolve()
      .then(() => r.cb({ name: 'lock', mode: 'exclusive' } as Lock))
      .then(
        (v) => done(() => r.resolve(v)),
        (e) => done(() => r.reject(e)),
      );
  };
  const manager = {
    request(_name: string, options: LockOptions, cb: (lock: Lock | null) => unknown) {
      return new Promise((resolve, reject) => {
        const r: Request = { cb, resolve, reject };
        if (options.steal) {
          const robbed = holder;
          if (robbed) {
            holder = undefined;
            robbed.reject(new DOMException('the lock was stolen', 'AbortError'));
            robbed.resolve = robbed.reject = () => undefined;
          }
          return grant(r);
        }
        if (options.ifAvailable && (holder || queue.length)) {
          void Promise.resolve()
            .then(() => cb(null))
            .then(resolve, reject);
          return;
        }
        if (!holder && queue.length === 0) return grant(r);
        queue.push(r);
        options.signal?.addEventListener('abort', () => {
          const i = queue.indexOf(r);
          if (i >= 0) {
            queue.splice(i, 1);
            reject(options.signal!.reason);
          }
        });
      });
    },
    query: async () => ({}),
    get held() {
      return holder !== undefined;
    },
  };
  return manager as unknown as LockManager & { readonly held: boolean };
}

/** BroadcastChannels of one origin; `deaf()` ones get nothing (a frozen tab). */
export function fakeChannels(): (o?: { deaf?: boolean }) => BroadcastChannel {
  const open = new Set<{ onmessage: ((e: { data: unknown }) => void) | null; deaf: boolean }>();
  return (o = {}) => {
    const c = {
      onmessage: null as ((e: { data: unknown }) => void) | null,
      deaf: o.deaf ?? false,
      postMessage(data: unknown) {
        for (const other of open) if (other !== c && !other.deaf) setTimeout(() => other.onmessage?.({ data }), 0);
      },
      close: () => void open.delete(c),
    };
    open.add(c);
    return c as unknown as BroadcastChannel;
  };
}
