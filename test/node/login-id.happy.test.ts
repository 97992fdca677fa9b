import { describe, expect, it } from 'vitest';
import { Attr, decodePacket, textAttribute } from '../../local-relay/src/radius/index.ts';
import { toLoginRequest } from '../../local-relay/src/server/login-request.ts';
import { buildRequest } from '../support/radclient.ts';

const SECRET = 'nas-secret-0123456789';
const client = { name: 'nas', secret: new TextEncoder().encode(SECRET) };

/** What the relay makes of one Access-Request arriving from `nasIp`. */
function loginIdOf(bytes: Uint8Array, nasIp = '192.0.2.1'): string {
  const packet = decodePacket(bytes);
  if (!packet.ok) throw new Error('undecodable');
  return toLoginRequest(packet.value, client, nasIp).loginId;
}

const request = (opts: { username?: string; authenticator?: Uint8Array; nasIdentifier?: string } = {}) =>
  buildRequest({
    secret: SECRET,
    username: opts.username ?? 'alice',
    password: 'alice-pass',
    ...(opts.authenticator ? { authenticator: opts.authenticator } : {}),
    attributes: [textAttribute(Attr.NasIdentifier, opts.nasIdentifier ?? 'vpn-gw')],
  });

describe('login_id', () => {
  it('is a SHA-256 hex digest, the same for a retransmit and for the same packet at another relay', () => {
    const { bytes } = request();
    expect(loginIdOf(bytes)).toMatch(/^[0-9a-f]{64}$/);
    expect(loginIdOf(bytes)).toBe(loginIdOf(bytes));
  });

  it('differs for another login of the same user from the same NAS (a fresh Request Authenticator)', () => {
    expect(loginIdOf(request().bytes)).not.toBe(loginIdOf(request().bytes));
  });

  it('differs for another NAS address, NAS-Identifier or User-Name with the same authenticator', () => {
    const authenticator = new Uint8Array(16).fill(7);
    const base = loginIdOf(request({ authenticator }).bytes);
    expect(loginIdOf(request({ authenticator }).bytes, '192.0.2.2')).not.toBe(base);
    expect(loginIdOf(request({ authenticator, nasIdentifier: 'vpn-gw-2' }).bytes)).not.toBe(base);
    expect(loginIdOf(request({ authenticator, username: 'bob' }).bytes)).not.toBe(base);
    expect(loginIdOf(request({ authenticator }).bytes)).toBe(base);
  });
});
