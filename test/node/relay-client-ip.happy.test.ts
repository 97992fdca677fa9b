import { describe, expect, it } from 'vitest';
import { type ClientIpAttr, clientIpOf } from '../../local-relay/src/flow/client-ip.ts';
import {
  Attr,
  decodePacket,
  type RadiusAttribute,
  textAttribute,
  vendorSpecific,
} from '../../local-relay/src/radius/index.ts';
import { toLoginRequest } from '../../local-relay/src/server/login-request.ts';
import { buildRequest } from '../support/radclient.ts';

const SECRET = 'nas-secret-0123456789';
const client = { name: 'nas', secret: new TextEncoder().encode(SECRET) };

const paloAlto = (text: string): RadiusAttribute => {
  const vsa = vendorSpecific(25461, 7, new TextEncoder().encode(text));
  if (!vsa.ok) throw new Error('vsa');
  return vsa.value;
};
const framed = (bytes: number[]): RadiusAttribute => ({ type: Attr.FramedIpAddress, value: new Uint8Array(bytes) });

/** The client IP the flow sends to Duo for an Access-Request carrying `attributes`. */
function clientIp(attributes: RadiusAttribute[], attr: ClientIpAttr): string | undefined {
  const { bytes } = buildRequest({ secret: SECRET, username: 'alice', password: 'alice-pass', attributes });
  const packet = decodePacket(bytes);
  if (!packet.ok) throw new Error('undecodable');
  return clientIpOf(toLoginRequest(packet.value, client, '192.0.2.1'), attr);
}

describe('client_ip_attr picks the end user address from the Access-Request', () => {
  const all = [
    textAttribute(Attr.CallingStationId, ' 198.51.100.7 '),
    paloAlto(' 203.0.113.9 '),
    framed([10, 1, 2, 3]),
  ];

  it('reads the configured attribute and only that one', () => {
    expect(clientIp(all, 'default')).toBe('198.51.100.7');
    expect(clientIp(all, 'paloalto')).toBe('203.0.113.9');
    expect(clientIp(all, 'framed-ip-address')).toBe('10.1.2.3');
    expect(clientIp(all, 'none')).toBeUndefined();
  });

  it('leaves out an attribute that is absent or not an IP address', () => {
    expect(clientIp([], 'paloalto')).toBeUndefined();
    expect(clientIp([], 'framed-ip-address')).toBeUndefined();
    expect(clientIp([textAttribute(Attr.CallingStationId, '00-11-22-33-44-55')], 'default')).toBeUndefined();
    expect(clientIp([paloAlto('not-an-ip')], 'paloalto')).toBeUndefined();
    expect(clientIp([framed([10, 1, 2])], 'framed-ip-address')).toBeUndefined();
  });
});
