import { timingSafeEqual } from 'node:crypto';
import { AUTHENTICATOR_LENGTH, HEADER_LENGTH } from './dictionary.ts';
import { hmacMd5 } from './md5.ts';
import { type DecodedPacket, messageAuthenticatorOffset } from './packet.ts';

const ZEROS = new Uint8Array(AUTHENTICATOR_LENGTH);

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
  if (at < 0) return undefined;
  const length = (bytes[2]! << 8) | bytes[3]!;
  return hmacMd5(
    secret,
    bytes.subarray(0, 4),
    headerAuthenticator ?? bytes.subarray(4, HEADER_LENGTH),
    bytes.subarray(HEADER_LENGTH, at),
    ZEROS,
    bytes.subarray(at + AUTHENTICATOR_LENGTH, length),
  );
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
  const expected = computeMessageAuthenticator(packet.bytes, secret, requestAuthenticator);
  if (!expected) return 'missing';
  return timingSafeEqual(expected, packet.bytes.subarray(at, at + AUTHENTICATOR_LENGTH)) ? 'valid' : 'invalid';
}

/** Writes the Message-Authenticator into already-encoded bytes (in place). */
export function signMessageAuthenticator(
  bytes: Uint8Array,
  secret: Uint8Array,
  headerAuthenticator?: Uint8Array,
): void {
  const at = messageAuthenticatorOffset(bytes);
  const mac = computeMessageAuthenticator(bytes, secret, headerAuthenticator);
  if (at >= 0 && mac) bytes.set(mac, at);
}
