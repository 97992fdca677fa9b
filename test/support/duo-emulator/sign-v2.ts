import { type CanonRequest, canonicalV2 } from '../../../src/duo/canonical.ts';
import { basicAuthorization, type Credentials, type HmacHash, hmacHex, hmacKey } from '../../../src/duo/sign.ts';

/**
 * Signature pieces only the emulator (and the tests that check it) need: the edge signs v5, but the
 * emulator also accepts v2 (SHA-1 or SHA-512) as Duo does for older clients.
 */

export async function signV2(creds: Credentials, r: CanonRequest, hash: HmacHash = 'SHA-512'): Promise<string> {
  return basicAuthorization(creds.ikey, await hmacHex(hash, creds.skey, canonicalV2(r)));
}

/** HMAC check through crypto.subtle.verify, which compares in constant time. */
export async function verifyHmacHex(hash: HmacHash, skey: string, canonical: string, hex: string): Promise<boolean> {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return false;
  const mac = new Uint8Array(hex.length / 2);
  for (let i = 0; i < mac.length; i++) mac[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return crypto.subtle.verify('HMAC', await hmacKey(skey, hash), mac, new TextEncoder().encode(canonical));
}
