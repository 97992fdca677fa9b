import type { LoginRequest } from '../flow/types.ts';
import { Attr } from '../radius/dictionary.ts';
import { type DecodedPacket, getAttribute } from '../radius/packet.ts';
import { unhidePassword } from '../radius/password.ts';
import { decodeText, decodeTextStrict } from '../radius/values.ts';
import type { RadiusRawRequest } from './types.ts';

/** Maps an authenticated Access-Request onto the flow's LoginRequest (see RadiusRawRequest for `raw`). */
export function toLoginRequest(
  packet: DecodedPacket,
  client: { name: string; secret: Uint8Array },
  nasIp: string,
): LoginRequest {
  const userName = getAttribute(packet, Attr.UserName);
  const state = getAttribute(packet, Attr.State);
  const nasIdentifier = getAttribute(packet, Attr.NasIdentifier);
  const callingStationId = getAttribute(packet, Attr.CallingStationId);
  const raw: RadiusRawRequest = { packet, secret: client.secret, clientName: client.name };
  const req: LoginRequest = { username: userName ? decodeText(userName) : '', nasIp, raw };
  Object.assign(req, password(packet, client.secret));
  if (state) req.state = state;
  if (nasIdentifier) req.nasIdentifier = decodeText(nasIdentifier);
  if (callingStationId) req.callingStationId = decodeText(callingStationId);
  return req;
}

function password(
  packet: DecodedPacket,
  secret: Uint8Array,
): Pick<LoginRequest, 'password'> | Pick<LoginRequest, 'passwordError'> {
  const hidden = getAttribute(packet, Attr.UserPassword);
  if (!hidden) return { passwordError: 'missing' };
  const plain = unhidePassword(hidden, secret, packet.authenticator);
  if (!plain.ok) return { passwordError: 'undecodable' };
  const text = decodeTextStrict(plain.value);
  return text === undefined ? { passwordError: 'undecodable' } : { password: text };
}
