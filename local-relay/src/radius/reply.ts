import { err, ok, type Result } from '../../../src/lib/result.ts';
import { computeResponseAuthenticator, verifyResponseAuthenticator } from './authenticator.ts';
import { Attr, AUTHENTICATOR_LENGTH } from './dictionary.ts';
import { checkMessageAuthenticator, signMessageAuthenticator } from './message-authenticator.ts';
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
  const attributes: RadiusAttribute[] = [
    { type: Attr.MessageAuthenticator, value: new Uint8Array(AUTHENTICATOR_LENGTH) },
  ];
  for (const a of reply.attributes) if (a.type !== Attr.MessageAuthenticator) attributes.push(a);
  const encoded = encodePacket({
    code: reply.code,
    identifier: reply.identifier,
    authenticator: requestAuthenticator,
    attributes,
  });
  if (!encoded.ok) return encoded;
  const bytes = encoded.value;
  signMessageAuthenticator(bytes, secret);
  bytes.set(computeResponseAuthenticator(bytes, requestAuthenticator, secret), 4);
  return ok(bytes);
}

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
