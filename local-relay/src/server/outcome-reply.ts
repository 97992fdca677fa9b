import { assertNever, type Result } from '@duo-edge/contract/result';
import type { LoginAnswer } from '../flow/types.ts';
import { Attr, Code } from '../radius/dictionary.ts';
import {
  type DecodedPacket,
  type EncodeError,
  getAttributes,
  type RadiusAttribute,
  type RadiusPacket,
} from '../radius/packet.ts';
import { encodeReply } from '../radius/reply.ts';
import { splitTextAttributes } from '../radius/values.ts';

/** What a reply needs of its request: the identifier, the Request Authenticator, the Proxy-States. */
export type ReplyTo = Pick<RadiusPacket, 'identifier' | 'authenticator' | 'attributes'>;

/**
 * What a login keeps for its reply while it waits (on a push, for minutes), in place of the decoded
 * request: copies, since a view into the datagram would keep all of it alive.
 */
export function replyToOf(request: DecodedPacket, authenticator = request.authenticator.slice()): ReplyTo {
  return {
    identifier: request.identifier,
    authenticator,
    attributes: getAttributes(request, Attr.ProxyState).map((value) => ({
      type: Attr.ProxyState,
      value: value.slice(),
    })),
  };
}

/**
 * Encodes the flow's outcome as the reply to `request`: Message-Authenticator first (encodeReply),
 * Reply-Message split over several attributes when long, State for challenges, pass-through
 * attributes for accepts (the upstream's Prompt for its relayed challenges, MS-CHAP-Error for
 * rejects), then every Proxy-State of the request unchanged and in order
 * (RFC 2865 §5.33).
 */
export function encodeOutcome(
  outcome: LoginAnswer,
  request: ReplyTo,
  secret: Uint8Array,
): Result<Uint8Array, EncodeError> {
  const attributes: RadiusAttribute[] = [];
  if (outcome.replyMessage) attributes.push(...splitTextAttributes(Attr.ReplyMessage, outcome.replyMessage));
  let code: number;
  switch (outcome.code) {
    case 'accept':
      code = Code.AccessAccept;
      for (const a of outcome.attributes ?? []) if (!SERVER_OWNED.has(a.type)) attributes.push(a);
      break;
    case 'reject':
      code = Code.AccessReject;
      for (const a of outcome.attributes ?? []) if (!SERVER_OWNED.has(a.type)) attributes.push(a);
      break;
    case 'challenge':
      code = Code.AccessChallenge;
      attributes.push({ type: Attr.State, value: outcome.state });
      for (const a of outcome.attributes ?? []) if (!SERVER_OWNED.has(a.type)) attributes.push(a);
      break;
    default:
      return assertNever(outcome);
  }
  for (const value of getAttributes(request, Attr.ProxyState)) attributes.push({ type: Attr.ProxyState, value });
  return encodeReply({ code, identifier: request.identifier, attributes }, request.authenticator, secret);
}

/**
 * Attributes a pass-through list must not inject: the server writes these itself (State too: the
 * NAS must only ever echo the relay's own).
 */
const SERVER_OWNED = new Set<number>([Attr.MessageAuthenticator, Attr.ProxyState, Attr.State]);

/** RFC 5997: an Access-Accept with nothing but Message-Authenticator (and Proxy-State, if any). */
export function encodeStatusReply(request: DecodedPacket, secret: Uint8Array): Result<Uint8Array, EncodeError> {
  const attributes = getAttributes(request, Attr.ProxyState).map((value) => ({ type: Attr.ProxyState, value }));
  return encodeReply(
    { code: Code.AccessAccept, identifier: request.identifier, attributes },
    request.authenticator,
    secret,
  );
}
