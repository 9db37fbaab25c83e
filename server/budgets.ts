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
