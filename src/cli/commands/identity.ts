/** This device's identity: `init`, `whoami`, `list`. */
import { safetyCode } from '../../lib/crypto/safety-code.ts';
import { toHex } from '../../lib/crypto/index.ts';
import { formatMemberCode, need, type CliArgs } from '../args.ts';
import { openDevice } from '../device.ts';
import { CliError } from '../errors.ts';
import { Keyring, readPublicIdentity, type PublicIdentity } from '../keyring.ts';
import { lockDir } from '../lock.ts';
import { kdfPolicy, readPassphrase } from '../passphrase-input.ts';
import { print } from '../output.ts';

/** What another device needs to add this one (`member`), and the code both people compare. */
function identityLine(id: PublicIdentity): Record<string, string> {
  return {
    member: formatMemberCode(id.signingPublicKey, id.boxPublicKey),
    signingKey: toHex(id.signingPublicKey),
    safetyCode: safetyCode(id.signingPublicKey, id.boxPublicKey),
  };
}

export async function init(a: CliArgs): Promise<void> {
  need(a, 0, 'init');
  lockDir(a.dir);
  const kdf = kdfPolicy(process.env);
  const passphrase = await readPassphrase(process.env, 'New keyring passphrase: ');
  if (process.env.VAULT_PASSPHRASE === undefined && (await readPassphrase(process.env, 'Repeat it: ')) !== passphrase) {
    throw new CliError('CLI_NO_PASSPHRASE', 'the two passphrases differ: nothing was created');
  }
  const ring = Keyring.init(a.dir, passphrase, kdf);
  print(identityLine({ signingPublicKey: ring.signer.publicKey, boxPublicKey: ring.box.publicKey }));
}

/** Public keys only: needs neither the passphrase nor the lock. */
export async function whoami(a: CliArgs): Promise<void> {
  need(a, 0, 'whoami');
  print(identityLine(readPublicIdentity(a.dir)));
}

export async function list(a: CliArgs): Promise<void> {
  need(a, 0, 'list');
  const dev = await openDevice(a);
  for (const alias of dev.ring.aliases()) print(alias);
}
