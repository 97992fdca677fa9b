import { timingSafeEqual } from 'node:crypto';
import { AUTHENTICATOR_LENGTH, MAX_PACKET_LENGTH } from './dictionary.ts';
import { hmacMd5 } from './md5.ts';
import { type DecodedPacket, messageAuthenticatorOffset } from './packet.ts';

// The HMAC input is the packet with two fields replaced; one copy into this buffer is cheaper
// than hashing five views of the original (each view is an allocation). Used synchronously only.
let scratch = new Uint8Array(MAX_PACKET_LENGTH);

/**
 * RFC 3579 §3.2: HMAC-MD5 keyed with the shared secret over the whole packet with the
 * Message-Authenticator value taken as 16 zero octets. Requests are signed with their own Request
 * Authenticator; replies with the Request Authenticator of the request they answer, which the
 * caller passes as `headerAuthenticator` (the reply's Response Authenticator is computed later).
 *
 * `bytes` must contain a Message-Authenticator attribute; returns undefined otherwise.
 */
export function computeMessageAuthenticator(
  bytes: Uint8Array,
  secret: Uint8Array,
  headerAuthenticator?: Uint8Array,
): Uint8Array | undefined {
  const at = messageAuthenticatorOffset(bytes);
  return at < 0 ? undefined : macAt(bytes, at, secret, headerAuthenticator);
}

function macAt(bytes: Uint8Array, at: number, secret: Uint8Array, headerAuthenticator?: Uint8Array): Uint8Array {
  const length = Math.min(bytes.length, (bytes[2]! << 8) | bytes[3]!);
  if (length > scratch.length) scratch = new Uint8Array(length);
  scratch.set(length === bytes.length ? bytes : bytes.subarray(0, length));
  if (headerAuthenticator) scratch.set(headerAuthenticator, 4);
  scratch.fill(0, at, at + AUTHENTICATOR_LENGTH);
  return hmacMd5(secret, scratch.subarray(0, length));
}

export type MessageAuthenticatorCheck = 'valid' | 'missing' | 'invalid';

/**
 * Verifies a decoded packet's Message-Authenticator in constant time. For a reply pass the
 * Request Authenticator of the request it answers.
 */
export function checkMessageAuthenticator(
  packet: DecodedPacket,
  secret: Uint8Array,
  requestAuthenticator?: Uint8Array,
): MessageAuthenticatorCheck {
  const at = messageAuthenticatorOffset(packet.bytes);
  if (at < 0) return 'missing';
  const expected = macAt(packet.bytes, at, secret, requestAuthenticator);
  return timingSafeEqual(expected, packet.bytes.subarray(at, at + AUTHENTICATOR_LENGTH)) ? 'valid' : 'invalid';
}

/** Writes the Message-Authenticator into already-encoded bytes (in place). */
export function signMessageAuthenticator(
  bytes: Uint8Array,
  secret: Uint8Array,
  headerAuthenticator?: Uint8Array,
): void {
  const at = messageAuthenticatorOffset(bytes);
  if (at >= 0) bytes.set(macAt(bytes, at, secret, headerAuthenticator), at);
}
