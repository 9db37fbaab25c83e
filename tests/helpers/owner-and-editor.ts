/** A relay, an owner's profile on it with one editor (Bob) in its founding members, torn down after the test. */
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { testRelay, type TestRelay } from './relay.ts';

export async function ownerAndEditor(cleanups: Array<() => Promise<void> | void>): Promise<{ relay: TestRelay; owner: Profile; bob: SigningKeyPair }> {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const [alice, bob] = [generateSigningKeyPair(), generateSigningKeyPair()];
  const owner = await Profile.create({ signer: alice, relayUrl: relay.url, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }], minReconnectDelayMs: 50 });
  cleanups.push(() => owner.close());
  await owner.flush();
  return { relay, owner, bob };
}
