/**
 * A profile shared by several replicas on one in-memory TestConnector, everything seeded: keys,
 * nonces, Yjs clientIDs, the clock. Plus `viewOf`: every read model a screen shows, in a form
 * that must be equal on every replica that has converged.
 */
import { generateBoxKeyPair, generateSigningKeyPair, seededRandom, type BoxKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createNodeCryptoEngine } from '../../src/lib/crypto/ed25519-node.ts';
import { identityFromSeed, Role, type RoleCode } from '../../src/lib/protocol/index.ts';
import { SECTION_NAMES } from '../../crdt-schemas/health/sections.ts';
import { isLogSection } from '../../src/lib/vault/records.ts';
import { membersOf, openInvites } from '../../src/lib/vault/people.ts';
import { enrollDevice } from '../../src/lib/vault/person.ts';
import { Profile, type OpenProfileOptions, type ProfileAccess } from '../../src/lib/vault/profile.ts';
import type { Prng } from './prng.ts';
import { pinnedEnvelope, seamOf, TestConnector, type Link } from './test-connector.ts';

export const NOTE = 'shared';

export interface Replica {
  readonly name: string;
  readonly profile: Profile;
  readonly link: Link;
  /** The member key this replica acts for (a device's person identity for linked devices). */
  readonly memberKey: Uint8Array;
  readonly role: RoleCode;
}

export interface Member {
  readonly signer: SigningKeyPair;
  readonly box: BoxKeyPair;
  readonly role: RoleCode;
  /** Set for a person with devices: the signer above is the identity. */
  readonly seed?: Uint8Array;
}

export class World {
  readonly clock = { t: 1_750_000_000_000 };
  readonly now = () => this.clock.t;
  readonly engine = createNodeCryptoEngine();
  readonly replicas: Replica[] = [];
  connector!: TestConnector;
  access!: ProfileAccess;
  private readonly prng: Prng;
  private readonly compactEvery: number;
  private readonly batchWindowMs: number;

  /** `batchWindowMs` (default 0: every record sealed at once) turns the outbox's batching on. */
  constructor(prng: Prng, o: { compactEvery: number; batchWindowMs?: number }) {
    this.prng = prng;
    this.compactEvery = o.compactEvery;
    this.batchWindowMs = o.batchWindowMs ?? 0;
  }

  /** A seeded random source of its own for each key or replica (never shared across replicas). */
  random() {
    return seededRandom(this.prng.int(1, 2 ** 31 - 1));
  }

  newMember(role: RoleCode, o: { person?: boolean } = {}): Member {
    const r = this.random();
    if (o.person) {
      const seed = r(32);
      const id = identityFromSeed(seed);
      return { signer: id.signing, box: id.box, role, seed };
    }
    return { signer: generateSigningKeyPair(r), box: generateBoxKeyPair(r), role };
  }

  private common(): Omit<OpenProfileOptions, 'signer' | 'access'> {
    return { engine: this.engine, random: this.random(), now: this.now, batchWindowMs: this.batchWindowMs, compactEvery: this.compactEvery, expirySweep: false, persistence: pinnedEnvelope(this.prng.int(1, 2 ** 31 - 1)) };
  }

  /** The owner creates the profile offline (genesis lists `others`), then connects. */
  async create(name: string, owner: Member, others: readonly Member[]): Promise<Replica> {
    const profile = await Profile.create({
      ...this.common(),
      signer: owner.signer,
      box: owner.box,
      members: others.map((m) => ({ publicKey: m.signer.publicKey, boxKey: m.box.publicKey, role: m.role, expiresAt: 0 })),
    });
    this.access = profile.access;
    this.connector = new TestConnector({ docId: profile.access.docId, engine: this.engine, now: this.now });
    const link = this.connector.add(name, profile, owner.signer, profile.access.genesisNonce);
    const replica = await this.attach({ name, profile, link, memberKey: owner.signer.publicKey, role: owner.role });
    // Genesis at the relay before anyone else connects: until then no member key is accepted.
    await this.connector.flushLink(link);
    return replica;
  }

  /**
   * Opens a replica of a member that knows the profile from outside (id and, unless `keyless`,
   * the keys the creator had: what an out-of-band share would give it); lockboxes bring the rest.
   */
  async open(name: string, m: Member, o: { keyless?: boolean; catchUp?: boolean } = {}): Promise<Replica> {
    const access = { docId: this.access.docId, epoch: 0, epochKeys: o.keyless ? new Map() : new Map(this.access.epochKeys) };
    const profile = await Profile.open({ ...this.common(), signer: m.signer, box: m.box, access });
    const link = this.connector.add(name, profile, m.signer);
    const replica = await this.attach({ name, profile, link, memberKey: m.signer.publicKey, role: m.role });
    // Its first catch-up alone: a fresh replica that gets others' records before the genesis
    // refuses them for good (convergence-races.test.ts pins that bug; not this harness's subject).
    if (o.catchUp !== false) await this.connector.flushLink(link);
    return replica;
  }

  /**
   * A new device of a person member, as openAsDevice does it over a relay: it connects as the
   * identity, catches up, then writes its own certificate; the identity's lockboxes reach it.
   */
  async linkDevice(name: string, person: Member): Promise<Replica> {
    const identity = identityFromSeed(person.seed!);
    const device = await enrollDevice({ identity }, { label: name, random: this.random(), engine: this.engine, now: this.now });
    // The keys its person's vault holds for the profile (what session.ts opens a device with).
    const access = { docId: this.access.docId, epoch: 0, epochKeys: new Map(this.access.epochKeys) };
    const alsoRecipient = { publicKey: identity.signing.publicKey, box: identity.box };
    const profile = await Profile.open({ ...this.common(), signer: device.signing, box: device.box, alsoRecipient, authSigner: identity.signing, access });
    const link = this.connector.add(name, profile, identity.signing);
    const replica = await this.attach({ name, profile, link, memberKey: identity.signing.publicKey, role: person.role });
    await this.connector.flushLink(link);
    await seamOf(profile).certify(device.cert);
    return replica;
  }

  private async attach(r: Replica): Promise<Replica> {
    this.replicas.push(r);
    await this.connector.connect(r.link);
    return r;
  }

  /** Everyone back online, then every message delivered and processed until nothing moves. */
  async quiesce(): Promise<void> {
    for (const r of this.replicas) {
      r.link.paused = false;
      await this.connector.connect(r.link);
    }
    for (let round = 0; round < 20; round++) {
      await this.connector.flushAll();
      for (const r of this.replicas) await seamOf(r.profile).settle();
      if (this.replicas.every((r) => r.link.state !== 'up' || (r.link.up.length === 0 && r.link.down.length === 0 && r.link.synced))) return;
    }
    throw new Error('the connector did not go quiet in 20 rounds');
  }

  async close(): Promise<void> {
    for (const r of this.replicas.splice(0)) await r.profile.close();
  }
}

/**
 * The link and compaction steps both seeded harnesses take, by where `roll` falls: below
 * `pause` toggles the link's pause, below `connect` connects or disconnects it, below `compact`
 * compacts if this replica may (writer, current key, caught up). Undefined when the roll is past
 * them or compaction is not possible now: the caller's own steps follow.
 */
export async function linkStep(world: World, r: Replica, roll: number, cuts: { pause: number; connect: number; compact: number }): Promise<string | undefined> {
  if (roll < cuts.pause) {
    r.link.paused = !r.link.paused;
    return r.link.paused ? 'pause' : 'resume';
  }
  if (roll < cuts.connect) {
    if (r.link.state === 'up') world.connector.disconnect(r.link);
    else await world.connector.connect(r.link);
    return r.link.state === 'up' ? 'connect' : 'disconnect';
  }
  if (roll < cuts.compact && r.profile.canWrite && seamOf(r.profile).holdsCurrentKey() && r.link.state === 'up' && r.link.synced) {
    await seamOf(r.profile).compact();
    return 'compact';
  }
  return undefined;
}

export const isWriter = (role: RoleCode) => role === Role.owner || role === Role.editor;

const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

/**
 * Every view a screen shows, normalised only where order or provenance legitimately depend on
 * the path a record took: keyed sections and names by key (Y.Map order is integration order),
 * audit ties by content, and a history entry's proof ('signed' needs the author's own update
 * record; a replica that got it inside a snapshot shows 'snapshot'; both name the same author).
 */
export async function viewOf(p: Profile, now: number) {
  const records: Record<string, unknown> = {};
  for (const s of SECTION_NAMES) {
    const list = p.records.list(s) as Array<{ id: string }>;
    records[s] = { valid: isLogSection(s) ? list : [...list].sort((a, b) => (a.id < b.id ? -1 : 1)), invalid: p.records.invalidCount(s) };
  }
  const audit = await p.auditTrail();
  const status = p.status.value;
  return {
    records,
    history: p.records.recent(Number.MAX_SAFE_INTEGER).map(({ proof: _proof, ...h }) => h),
    note: p.note(NOTE).text,
    names: [...p.displayNames()].sort(byJson),
    // `isYou` and a device's `current` say which replica this is: the rest must agree.
    members: membersOf(p, now).map(({ isYou: _isYou, devices, ...m }) => ({ ...m, devices: devices.map(({ current: _current, ...d }) => d).sort(byJson) })),
    invites: openInvites(p, now),
    audit: { events: [...audit.events].sort((a, b) => a.at - b.at || byJson(a, b)), chains: [...audit.chains].sort(byJson) },
    status: { pending: status.pending, gaps: status.gaps, problems: status.problems },
  };
}
