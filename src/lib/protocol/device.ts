/**
 * Identities and device certificates. A person's identity (signing + box keys) is derived from
 * a 32-byte seed (what the recovery code encodes); each device has its own keys, certified by
 * the identity, so records say which device wrote them and one device can be revoked alone.
 *   cert = identity(32) ‖ device(32) ‖ deviceBox(32) ‖ issuedAt(u48) ‖ sig(64)
 *   sig  = Ed25519_identity("fhv/device-cert/v1" ‖ identity ‖ device ‖ deviceBox ‖ issuedAt)
 * A document takes a certificate only for a member identity (or its creator), for a device key
 * that is not already someone else's (membership.ts `device`).
 */
import {
  boxKeyPairFromSecretKey,
  concatBytes,
  hashWithDomain,
  signDetached,
  signingKeyPairFromSeed,
  utf8,
  verifyDetached,
  type BoxKeyPair,
  type BoxPublicKey,
  type Ed25519Engine,
  type SigningKeyPair,
  type SigningPublicKey,
} from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';

export interface Identity {
  readonly seed: Uint8Array;
  readonly signing: SigningKeyPair;
  readonly box: BoxKeyPair;
}

export function identityFromSeed(seed: Uint8Array): Identity {
  if (seed.length !== 32) throw new RangeError('identity seed must be 32 bytes');
  return {
    seed,
    signing: signingKeyPairFromSeed(hashWithDomain('fhv/identity-sign/v1', seed)),
    box: boxKeyPairFromSecretKey(hashWithDomain('fhv/identity-box/v1', seed)),
  };
}

export interface DeviceCert {
  readonly identity: SigningPublicKey;
  readonly device: SigningPublicKey;
  readonly deviceBox: BoxPublicKey;
  readonly issuedAt: number;
  readonly signature: Uint8Array;
}

export const DEVICE_CERT_LENGTH = 3 * PUBLIC_KEY_LENGTH + 6 + SIGNATURE_LENGTH;
const CERT_DOMAIN = utf8('fhv/device-cert/v1');

const certBody = (c: Omit<DeviceCert, 'signature'>): Uint8Array =>
  new ByteWriter().bytes(c.identity).bytes(c.device).bytes(c.deviceBox).u48(c.issuedAt).finish();

export async function certifyDevice(o: {
  identity: SigningKeyPair;
  device: SigningPublicKey;
  deviceBox: BoxPublicKey;
  issuedAt: number;
  engine: Ed25519Engine;
}): Promise<DeviceCert> {
  const body = { identity: o.identity.publicKey, device: o.device, deviceBox: o.deviceBox, issuedAt: o.issuedAt };
  const signature = await signDetached(o.engine, concatBytes(CERT_DOMAIN, certBody(body)), o.identity.secretKey);
  return { ...body, signature };
}

export const encodeDeviceCert = (c: DeviceCert): Uint8Array => concatBytes(certBody(c), c.signature);

export function decodeDeviceCert(bytes: Uint8Array): Result<DeviceCert> {
  const r = new ByteReader(bytes);
  const identity = r.take(PUBLIC_KEY_LENGTH);
  const device = r.take(PUBLIC_KEY_LENGTH);
  const deviceBox = r.take(PUBLIC_KEY_LENGTH);
  const issuedAt = r.u48();
  const signature = r.take(SIGNATURE_LENGTH);
  if (!identity || !device || !deviceBox || issuedAt === null || !signature) return fail('DEVICE_BAD_CERT', 'device certificate truncated');
  return ok({ identity: identity as SigningPublicKey, device: device as SigningPublicKey, deviceBox: deviceBox as BoxPublicKey, issuedAt, signature });
}

export async function verifyDeviceCert(c: DeviceCert, engine: Ed25519Engine): Promise<boolean> {
  return verifyDetached(engine, concatBytes(CERT_DOMAIN, certBody(c)), c.signature, c.identity);
}
