/**
 * The one door to a profile's engine (sync engine, relay connection, plain and envelope docs),
 * for the vault layer's own modules and for tests and benchmarks. The UI, the state layer and
 * the CLI never import this (tests/architecture.test.ts): they use the Profile facade's read
 * models and typed operations.
 */
import type * as Y from 'yjs';
import type { ProfileSync } from '../sync/profile-sync.ts';
import type { RelayConnection } from '../sync/relay-connection.ts';

export interface ProfileEngine {
  readonly sync: ProfileSync;
  readonly connection: RelayConnection | undefined;
  readonly plainDoc: Y.Doc;
  readonly envelopeDoc: Y.Doc;
}

/** Keyed by the Profile (typed as object: profile.ts imports this module, not the reverse). */
const engines = new WeakMap<object, ProfileEngine>();

/** Called once by the Profile constructor. */
export function registerEngine(profile: object, engine: ProfileEngine): void {
  engines.set(profile, engine);
}

export function engineOf(profile: object): ProfileEngine {
  const engine = engines.get(profile);
  if (!engine) throw new Error('not an open profile');
  return engine;
}
