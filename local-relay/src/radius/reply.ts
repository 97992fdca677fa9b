import { err, ok, type Result } from '@duo-edge/contract/result';
import { verifyResponseAuthenticator } from './authenticator.ts';
import { Attr, AUTHENTICATOR_LENGTH, HEADER_LENGTH } from './dictionary.ts';
import { hmacMd5, md5 } from './md5.ts';
import { checkMessageAuthenticator } from './message-authenticator.ts';
import { type DecodedPacket, type EncodeError, encodePacket, type RadiusAttribute } from './packet.ts';

export interface ReplyInput {
  code: number;
  identifier: number;
  /** Everything but Message-Authenticator, which this module places first itself. */
  attributes: ReadonlyArray<RadiusAttribute>;
}

/**
 * Encodes a server reply the BlastRADIUS-safe way (draft-ietf-radext-deprecating-radius
 * §server-responses, RFC 3579 §3.2): Message-Authenticator FIRST, HMAC computed with the request's
 * authenticator in the header, then the Response Authenticator over the final bytes.
 */
export function encodeReply(
  reply: ReplyInput,
  requestAuthenticator: Uint8Array,
  secret: Uint8Array,
): Result<Uint8Array, EncodeError> {
  const attributes: RadiusAttribute[] = [{ type: Attr.MessageAuthenticator, value: ZERO_MAC }];
  for (const a of reply.attributes) if (a.type !== Attr.MessageAuthenticator) attributes.push(a);
  const encoded = encodePacket({
    code: reply.code,
    identifier: reply.identifier,
    authenticator: requestAuthenticator,
    attributes,
  });
  if (!encoded.ok) return encoded;
  const bytes = encoded.value;
  // Message-Authenticator is the first attribute and still zero, and the header holds the Request
  // Authenticator: the bytes are already the HMAC input of RFC 3579 §3.2, then of RFC 2865 §3.
  bytes.set(hmacMd5(secret, bytes), FIRST_ATTRIBUTE_VALUE);
  bytes.set(md5(bytes, secret), 4);
  return ok(bytes);
}

const FIRST_ATTRIBUTE_VALUE = HEADER_LENGTH + 2;
/** Copied by encodePacket, never written. */
const ZERO_MAC = new Uint8Array(AUTHENTICATOR_LENGTH);

export type ReplyCheckError =
  | 'identifier_mismatch'
  | 'bad_response_authenticator'
  | 'missing_message_authenticator'
  | 'bad_message_authenticator';

/**
 * Client side (RFC 2865 §4.2, RFC 3579 §3.2): is `reply` an authentic answer to the request with
 * this identifier and Request Authenticator? Message-Authenticator is required by default, as the
 * deprecating-RADIUS draft asks of clients.
 */
export function verifyReply(
  reply: DecodedPacket,
  request: { identifier: number; authenticator: Uint8Array },
  secret: Uint8Array,
  options: { requireMessageAuthenticator?: boolean } = {},
): Result<void, ReplyCheckError> {
  if (reply.identifier !== request.identifier) return err('identifier_mismatch');
  if (!verifyResponseAuthenticator(reply.bytes, request.authenticator, secret))
    return err('bad_response_authenticator');
  const ma = checkMessageAuthenticator(reply, secret, request.authenticator);
  if (ma === 'invalid') return err('bad_message_authenticator');
  if (ma === 'missing' && options.requireMessageAuthenticator !== false) return err('missing_message_authenticator');
  return ok(undefined);
}
