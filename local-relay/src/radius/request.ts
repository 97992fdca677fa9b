import { ok, type Result } from '@duo-edge/contract/result';
import { Attr, AUTHENTICATOR_LENGTH } from './dictionary.ts';
import { signMessageAuthenticator } from './message-authenticator.ts';
import { type EncodeError, encodePacket, type RadiusAttribute } from './packet.ts';

export interface RequestInput {
  /** Access-Request (1) or Status-Server (12). */
  code: number;
  identifier: number;
  /** From `newRequestAuthenticator()`; User-Password must already be hidden with it. */
  authenticator: Uint8Array;
  /** Everything but Message-Authenticator, which is placed first and signed here. */
  attributes: ReadonlyArray<RadiusAttribute>;
}

/**
 * Client side: encodes an Access-Request or Status-Server with Message-Authenticator first, as
 * every client must since BlastRADIUS (draft-ietf-radext-deprecating-radius §Changes to RADIUS).
 */
export function encodeRequest(request: RequestInput, secret: Uint8Array): Result<Uint8Array, EncodeError> {
  const attributes: RadiusAttribute[] = [
    { type: Attr.MessageAuthenticator, value: new Uint8Array(AUTHENTICATOR_LENGTH) },
  ];
  for (const a of request.attributes) if (a.type !== Attr.MessageAuthenticator) attributes.push(a);
  const encoded = encodePacket({ ...request, attributes });
  if (!encoded.ok) return encoded;
  signMessageAuthenticator(encoded.value, secret);
  return ok(encoded.value);
}
