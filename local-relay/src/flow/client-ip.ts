import { isIP } from 'node:net';
import { Attr, getAttribute, vendorAttributes } from '../radius/index.ts';
import type { RadiusRawRequest } from '../server/types.ts';
import type { LoginRequest } from './types.ts';

/**
 * The end user's IP for Duo's `ipaddr` (authproxy `client_ip_attr`): `default` is
 * Calling-Station-Id, `paloalto` the PaloAlto-Client-Source-IP VSA, or `Framed-IP-Address`.
 * Anything that is not an IP address is left out rather than sent.
 */
export type ClientIpAttr = 'default' | 'paloalto' | 'framed-ip-address' | 'none';

const PALOALTO_VENDOR_ID = 25461;
const PALOALTO_CLIENT_SOURCE_IP = 7;

export function clientIpOf(req: LoginRequest, attr: ClientIpAttr): string | undefined {
  const candidate = req.clientIp ?? read(req, attr);
  return candidate !== undefined && isIP(candidate) ? candidate : undefined;
}

function read(req: LoginRequest, attr: ClientIpAttr): string | undefined {
  const packet = (req.raw as RadiusRawRequest | undefined)?.packet;
  switch (attr) {
    case 'none':
      return undefined;
    case 'default':
      return req.callingStationId?.trim();
    case 'paloalto': {
      const v =
        packet &&
        vendorAttributes(packet.attributes, PALOALTO_VENDOR_ID).find((a) => a.vendorType === PALOALTO_CLIENT_SOURCE_IP);
      return v ? new TextDecoder().decode(v.value).trim() : undefined;
    }
    case 'framed-ip-address': {
      const v = packet && getAttribute(packet, Attr.FramedIpAddress);
      return v?.length === 4 ? Array.from(v).join('.') : undefined;
    }
  }
}
