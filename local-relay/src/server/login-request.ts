import type { LoginRequest } from '../flow/types.ts';
import { Attr, MICROSOFT_VENDOR_ID, MsAttr } from '../radius/dictionary.ts';
import { type DecodedPacket, getAttribute } from '../radius/packet.ts';
import { unhidePassword } from '../radius/password.ts';
import { decodeIpv4, decodeText, decodeTextStrict } from '../radius/values.ts';
import { getVendorAttribute, vendorAttributes } from '../radius/vsa.ts';
import { loginIdOf } from './login-id.ts';
import type { RadiusRawRequest } from './types.ts';

const PALOALTO_VENDOR_ID = 25461;
const PALOALTO_CLIENT_SOURCE_IP = 7;

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
  const paloAlto = getVendorAttribute(packet.attributes, PALOALTO_VENDOR_ID, PALOALTO_CLIENT_SOURCE_IP);
  const framedIp = getAttribute(packet, Attr.FramedIpAddress);
  const raw: RadiusRawRequest = { packet, secret: client.secret, clientName: client.name };
  const username = userName ? decodeText(userName) : '';
  const loginId = loginIdOf({
    nasIp,
    nasIdentifier: nasIdentifier && decodeText(nasIdentifier),
    authenticator: packet.authenticator,
    userName: userName ?? new Uint8Array(0),
  });
  const req: LoginRequest = { username, nasIp, client: client.name, loginId, raw };
  Object.assign(req, password(packet, client.secret));
  if (req.passwordError === 'missing' && isMsChapV2(packet)) req.msChapV2 = true;
  // A copy: a view would keep the whole datagram alive for as long as the login waits.
  if (state) req.state = state.slice();
  if (nasIdentifier) req.nasIdentifier = decodeText(nasIdentifier);
  if (callingStationId) req.callingStationId = decodeText(callingStationId);
  if (paloAlto) req.paloAltoClientSourceIp = decodeText(paloAlto);
  const framedIpAddress = framedIp && decodeIpv4(framedIp);
  if (framedIpAddress) req.framedIpAddress = framedIpAddress;
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

/** MS-CHAPv2 per RFC 2548: both MS-CHAP-Challenge and MS-CHAP2-Response present. */
function isMsChapV2(packet: DecodedPacket): boolean {
  const types = new Set(vendorAttributes(packet.attributes, MICROSOFT_VENDOR_ID).map((v) => v.vendorType));
  return types.has(MsAttr.MsChapChallenge) && types.has(MsAttr.MsChap2Response);
}
