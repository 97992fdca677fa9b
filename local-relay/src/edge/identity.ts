import { readFile } from 'node:fs/promises';
import { importPrivateKeyPem, importPublicKey, type Key, publicKeyOf } from '@duo-edge/contract/ed25519';
import { err, ok, type Result } from '@duo-edge/contract/result';
import type { RelayIdentity } from './signing.ts';

/** The relay's signing identity from its PEM key file; a readable error names what is wrong. */
export async function loadIdentity(site: string, keyFile: string): Promise<Result<RelayIdentity, string>> {
  let pem: string;
  try {
    pem = await readFile(keyFile, 'utf8');
  } catch (error) {
    return err(`cannot read key file ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const privateKey = await importPrivateKeyPem(pem);
  if (!privateKey) return err(`${keyFile} is not an Ed25519 PKCS#8 PEM private key (make one with duo-relay keygen)`);
  return ok({ site, privateKey, publicKey: await publicKeyOf(privateKey) });
}

/** The pinned edge keys; an error names the entry (`edge.public_keys[1]`) that is not a key. */
export async function loadEdgePublicKeys(list: ReadonlyArray<string>): Promise<Result<Key[], string>> {
  const keys: Key[] = [];
  for (const [i, b64url] of list.entries()) {
    const key = await importPublicKey(b64url);
    if (!key) return err(`edge.public_keys[${i}]: not a valid Ed25519 public key`);
    keys.push(key);
  }
  return ok(keys);
}
