/**
 * Message and byte budgets: what one member may send on one document. Two token buckets per
 * (document, member key), shared by that member's connections to the document so reconnecting
 * does not refill them: a message rate and a byte rate, each with a burst (config.budgets).
 * Every message is charged as it arrives, before Hocuspocus queues, decodes or checks it; once a
 * bucket runs dry the connection's next message fails `beforeHandleMessage` with
 * RELAY_RATE_LIMITED, which makes Hocuspocus drop that connection's queue and close it (close
 * code 4171, reason RELAY_RATE_LIMITED). Time is config.now, so tests step it by hand.
 */
import type { Connection, Extension, beforeHandleMessagePayload, connectedPayload } from '@hocuspocus/server';
import type { ConnectionContext } from './auth.ts';
import type { RelayBudgets, RelayConfig } from './config.ts';
import { RelayRefusal } from './errors.ts';

/** `rate` tokens per second up to `burst`; starts full. A clock that goes back refills nothing. */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  private level: number;
  private last: number;

  constructor(rate: number, burst: number, now: number) {
    this.rate = rate;
    this.burst = burst;
    this.level = burst;
    this.last = now;
  }

  /** Takes `cost` tokens if that many are there; otherwise takes nothing and answers false. */
  take(cost: number, now: number): boolean {
    this.refill(now);
    if (cost > this.level) return false;
    this.level -= cost;
    return true;
  }

  /** Full again: indistinguishable from a fresh bucket, so it may be forgotten. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.level >= this.burst;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed > 0) this.level = Math.min(this.burst, this.level + (elapsed / 1000) * this.rate);
    this.last = now;
  }
}

interface Budget {
  readonly messages: TokenBucket;
  readonly bytes: TokenBucket;
  connections: number;
}

const LIMITED = new RelayRefusal({ code: 'RELAY_RATE_LIMITED', message: 'this connection sent more than its message or byte budget' });

/**
 * `log` counts each rate-limited connection (server/log.ts, rate-limited itself); the refusal is
 * thrown without a message so Hocuspocus does not also log it once per extension.
 */
export function budgetExtension(config: Pick<RelayConfig, 'now'> & { readonly budgets: RelayBudgets }, log: (reason: string) => void = () => {}): Extension {
  const limits = config.budgets;
  /** By `${document}\n${member key}`; an entry is dropped when its last connection closes with full buckets. */
  const budgets = new Map<string, Budget>();
  const ofConnection = new WeakMap<Connection, Budget>();
  /** Connections that went over budget: their next message closes them; later arrivals are dropped. */
  const over = new WeakSet<Connection>();
  /** Messages already charged on arrival (the same object reaches beforeHandleMessage). */
  const charged = new WeakSet<Uint8Array>();

  const sweep = (now: number) => {
    for (const [key, b] of budgets) if (b.connections === 0 && b.messages.isFull(now) && b.bytes.isFull(now)) budgets.delete(key);
  };

  function budgetOf(connection: Connection, documentName: string, context: unknown): Budget {
    const known = ofConnection.get(connection);
    if (known) return known;
    const now = config.now();
    const author = (context as Partial<ConnectionContext> | undefined)?.author;
    // No member key (not expected after onAuthenticate): a budget of this connection alone.
    const key = author ? `${documentName}\n${author}` : undefined;
    let budget = key ? budgets.get(key) : undefined;
    if (!budget) {
      sweep(now);
      budget = {
        messages: new TokenBucket(limits.messagesPerSecond, limits.messageBurst, now),
        bytes: new TokenBucket(limits.bytesPerSecond, limits.byteBurst, now),
        connections: 0,
      };
      if (key) budgets.set(key, budget);
    }
    budget.connections++;
    ofConnection.set(connection, budget);
    const b = budget;
    connection.onClose(() => {
      b.connections--;
      if (b.connections === 0) sweep(config.now());
    });
    return budget;
  }

  /** Charges one arrived message; one over budget marks its connection. */
  function charge(connection: Connection, budget: Budget, message: Uint8Array): void {
    const now = config.now();
    if (budget.messages.take(1, now) && budget.bytes.take(message.byteLength, now)) return;
    over.add(connection);
    log(LIMITED.code);
  }

  return {
    extensionName: 'fhv-budgets',
    async connected({ connection, documentName, context }: connectedPayload): Promise<void> {
      const budget = budgetOf(connection, documentName, context);
      // Charge on arrival: a flood is counted as it comes in, not as fast as the relay drains it.
      const handle = connection.handleMessage.bind(connection);
      connection.handleMessage = (data: Uint8Array) => {
        if (over.has(connection)) return; // already closing: the queue is dropped anyway
        charge(connection, budget, data);
        charged.add(data);
        handle(data);
      };
    },
    async beforeHandleMessage({ connection, documentName, context, update }: beforeHandleMessagePayload): Promise<void> {
      // Messages that were queued before `connected` (during authentication) are charged here.
      if (!charged.has(update)) charge(connection, budgetOf(connection, documentName, context), update);
      if (over.has(connection)) throw LIMITED.close;
    },
  };
}

/**
 * The name of the per-address budget a peer draws on. An IPv6 peer usually holds a whole /64
 * (one home, one phone, one cloud machine gets 2^64 addresses), so a budget per IPv6 address is
 * no budget: a client rotating through its /64 got a fresh bucket per request (attack-budgets
 * test). IPv6 peers are budgeted per /64; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a
 * dual-stack listener reports for IPv4 peers) as the IPv4 address it is; IPv4 per address.
 */
export function addressBudgetName(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const address = remote.replace(/%.*$/, '').toLowerCase(); // a zone index names the interface, not the peer
  if (!address.includes(':')) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : undefined;
}
