import { err, ok, type Result } from '@duo-edge/contract/result';
import { md5 } from './md5.ts';

/** RFC 2865 §5.2: the hidden String is 16..128 octets, a multiple of 16. */
const BLOCK = 16;
const MAX_HIDDEN = 128;

export type PasswordError = { reason: 'too_long'; length: number } | { reason: 'bad_hidden_length'; length: number };

/**
 * RFC 2865 §5.2 User-Password hiding: pad with NULs to a multiple of 16 (at least 16), then
 * c(1) = p(1) xor MD5(S + RA), c(i) = p(i) xor MD5(S + c(i-1)).
 */
export function hidePassword(
  password: Uint8Array | string,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
): Result<Uint8Array, PasswordError> {
  const plain = typeof password === 'string' ? new TextEncoder().encode(password) : password;
  if (plain.length > MAX_HIDDEN) return err({ reason: 'too_long', length: plain.length });
  const padded = new Uint8Array(Math.max(BLOCK, Math.ceil(plain.length / BLOCK) * BLOCK));
  padded.set(plain);
  return ok(xorChain(padded, secret, requestAuthenticator, 'hide'));
}

/** Reverses `hidePassword`; strips only the trailing NUL padding (embedded NULs are kept). */
export function unhidePassword(
  hidden: Uint8Array,
  secret: Uint8Array,
  requestAuthenticator: Uint8Array,
): Result<Uint8Array, PasswordError> {
  if (hidden.length < BLOCK || hidden.length > MAX_HIDDEN || hidden.length % BLOCK !== 0) {
    return err({ reason: 'bad_hidden_length', length: hidden.length });
  }
  const plain = xorChain(hidden, secret, requestAuthenticator, 'unhide');
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return ok(plain.subarray(0, end));
}

/**
 * The chained MD5 keystream shared by User-Password (RFC 2865 §5.2) and the MPPE keys
 * (RFC 2548 §2.4.2, whose first block also mixes in the salt via `seed`). Each block's key is
 * derived from the previous *ciphertext* block, so the direction matters.
 */
export function xorChain(
  input: Uint8Array,
  secret: Uint8Array,
  seed: Uint8Array,
  direction: 'hide' | 'unhide',
): Uint8Array {
  const out = new Uint8Array(input.length);
  let previous = seed;
  for (let i = 0; i < input.length; i += BLOCK) {
    const b = md5(secret, previous);
    for (let j = 0; j < BLOCK; j++) out[i + j] = input[i + j]! ^ b[j]!;
    previous = direction === 'hide' ? out.subarray(i, i + BLOCK) : input.subarray(i, i + BLOCK);
  }
  return out;
}
