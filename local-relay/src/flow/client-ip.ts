import { isIP } from 'node:net';
import type { LoginRequest } from './types.ts';

/**
 * The end user's IP for Duo's `ipaddr` (authproxy `client_ip_attr`): `default` is
 * Calling-Station-Id, `paloalto` the PaloAlto-Client-Source-IP VSA, or `Framed-IP-Address`.
 * Anything that is not an IP address is left out rather than sent.
 */
export type ClientIpAttr = 'default' | 'paloalto' | 'framed-ip-address' | 'none';

export function clientIpOf(req: LoginRequest, attr: ClientIpAttr): string | undefined {
  const candidate = read(req, attr);
  return candidate !== undefined && isIP(candidate) ? candidate : undefined;
}

function read(req: LoginRequest, attr: ClientIpAttr): string | undefined {
  switch (attr) {
    case 'none':
      return undefined;
    case 'default':
      return req.callingStationId?.trim();
    case 'paloalto':
      return req.paloAltoClientSourceIp?.trim();
    case 'framed-ip-address':
      return req.framedIpAddress;
  }
}
