import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTHENTICATOR_LENGTH, HEADER_LENGTH } from './dictionary.ts';
import { md5 } from './md5.ts';

/** RFC 2865 §3: unpredictable and unique over the secret's lifetime, hence the CSPRNG. */
export function newRequestAuthenticator(): Uint8Array {
  return new Uint8Array(randomBytes(AUTHENTICATOR_LENGTH));
}

/**
 * RFC 2865 §3: MD5(Code+ID+Length+RequestAuth+Attributes+Secret) over the encoded reply; the
 * reply's own Authenticator field is ignored.
 */
export function computeResponseAuthenticator(
  reply: Uint8Array,
  requestAuthenticator: Uint8Array,
  secret: Uint8Array,
): Uint8Array {
  const length = Math.min(reply.length, (reply[2]! << 8) | reply[3]!);
  return md5(reply.subarray(0, 4), requestAuthenticator, reply.subarray(HEADER_LENGTH, length), secret);
}

/** Constant-time check of a received reply's Response Authenticator. */
export function verifyResponseAuthenticator(
  reply: Uint8Array,
  requestAuthenticator: Uint8Array,
  secret: Uint8Array,
): boolean {
  if (reply.length < HEADER_LENGTH) return false;
  const expected = computeResponseAuthenticator(reply, requestAuthenticator, secret);
  return timingSafeEqual(expected, reply.subarray(4, HEADER_LENGTH));
}
