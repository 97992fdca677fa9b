import { open } from 'node:fs/promises';
import { generateKeyPair } from '@duo-edge/contract/ed25519';

/** `duo-relay keygen`: the private key only ever goes to the file, created 0600 and not overwritten by accident. */
export async function keygen(out: string, force: boolean): Promise<string> {
  const { privateKeyPem, publicKey } = await generateKeyPair();
  const fh = await open(out, force ? 'w' : 'wx', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(privateKeyPem);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return publicKey;
}
