/**
 * Invite keys: everything an invite grants is derived from one random 32-byte secret that
 * travels only in a link's URL fragment (never sent to a server). The owner registers the
 * derived public keys in an `invite` membership op and addresses a lockbox to them; whoever
 * holds the secret can authenticate once as the invite key, read its lockbox and `accept`,
 * binding its own keys: the accept carries a signature by the bound key (`signAccept`), so a
 * link holder binds only a key it controls, and never one that is already a member, device or
 * invite key. The relay enforces expiry and single use (membership.ts).
 */
import { boxKeyPairFromSecretKey, hashWithDomain, signingKeyPairFromSeed, type BoxKeyPair, type SigningKeyPair } from '../crypto/index.ts';

export const INVITE_SECRET_LENGTH = 32;

export function inviteKeysFromSecret(secret: Uint8Array): { signing: SigningKeyPair; box: BoxKeyPair } {
  if (secret.length !== INVITE_SECRET_LENGTH) throw new RangeError('invite secret must be 32 bytes');
  return {
    signing: signingKeyPairFromSeed(hashWithDomain('fhv/invite-sign/v1', secret)),
    box: boxKeyPairFromSecretKey(hashWithDomain('fhv/invite-box/v1', secret)),
  };
}
