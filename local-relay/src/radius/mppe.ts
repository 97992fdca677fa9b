import { randomBytes } from 'node:crypto';
import { err, ok, type Result } from '@duo-edge/contract/result';
import { xorChain } from './password.ts';

/**
 * RFC 2548 §2.4.2/§2.4.3 MS-MPPE-Send-Key / MS-MPPE-Recv-Key salt encryption. The VSA value is
 * Salt (2 octets, high bit set, unique per key in a packet) + encrypted String, where the plain
 * String is Key-Length (1 octet) + Key + NUL padding to a multiple of 16, and
 * b(1) = MD5(S + R + A) with R the Request Authenticator and A the salt.
 *
 * A relay that received keys from an upstream server must decrypt them with the upstream secret
 * and request authenticator, then encrypt them again for the NAS.
 */

export type MppeError =
  | { reason: 'key_too_long'; length: number }
  | { reason: 'bad_salt' }
  | { reason: 'bad_length'; length: number }
  | { reason: 'bad_key_length'; keyLength: number };

const MAX_KEY = 239; // 1 + key + padding must fit the 253-octet VSA after vendor header and salt.

export function encryptMppeKey(
  key: Uint8Array,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
  salt: Uint8Array = newSalt(),
): Result<Uint8Array, MppeError> {
  if (key.length > MAX_KEY) return err({ reason: 'key_too_long', length: key.length });
  if (salt.length !== 2 || (salt[0]! & 0x80) === 0) return err({ reason: 'bad_salt' });
  const plain = new Uint8Array(Math.ceil((key.length + 1) / 16) * 16);
  plain[0] = key.length;
  plain.set(key, 1);
  const cipher = xorChain(plain, secret, concat(requestAuthenticator, salt), 'hide');
  return ok(concat(salt, cipher));
}

export function decryptMppeKey(
  value: Uint8Array,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
): Result<Uint8Array, MppeError> {
  const cipherLength = value.length - 2;
  if (cipherLength < 16 || cipherLength % 16 !== 0) return err({ reason: 'bad_length', length: value.length });
  const salt = value.subarray(0, 2);
  if ((salt[0]! & 0x80) === 0) return err({ reason: 'bad_salt' });
  const plain = xorChain(value.subarray(2), secret, concat(requestAuthenticator, salt), 'unhide');
  const keyLength = plain[0]!;
  if (keyLength > plain.length - 1) return err({ reason: 'bad_key_length', keyLength });
  return ok(plain.slice(1, 1 + keyLength));
}

function newSalt(): Uint8Array {
  const salt = new Uint8Array(randomBytes(2));
  salt[0] = salt[0]! | 0x80;
  return salt;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
