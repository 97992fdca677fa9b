import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginFlow, LoginOutcome } from '../../local-relay/src/flow/types.ts';
import { Attr, Code, decodePacket, getAttribute, verifyReply } from '../../local-relay/src/radius/index.ts';
import { createRadiusServer, type RadiusClientEntry } from '../../local-relay/src/server/index.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../support/freeradius.ts';
import { buildRequest, openUdpPeer, radclient, type UdpPeer } from '../support/radclient.ts';

/**
 * Interop with the RADIUS implementation admins already trust: Debian's radclient drives the
 * relay's packet layer, and the relay's codec acts as a client of FreeRADIUS 3.2.
 */

const SECRET = 'interop-secret-0123456789abcdef';
const secret = new TextEncoder().encode(SECRET);
const STATE = Uint8Array.from(Buffer.from('a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex'));

/** A LoginFlow double keyed on the user name. */
const flow: LoginFlow = {
  async handle(req): Promise<LoginOutcome> {
    switch (req.username) {
      case 'alice':
        return req.password === 'alice-pass'
          ? {
              code: 'accept',
              replyMessage: 'Welcome alice',
              attributes: [{ type: Attr.Class, value: new Uint8Array([0xca, 0xfe]) }],
            }
          : { code: 'reject', replyMessage: 'Primary credentials rejected' };
      case 'frank':
        if (!req.state) return { code: 'challenge', replyMessage: 'Enter passcode:', state: STATE };
        return Buffer.from(req.state).equals(Buffer.from(STATE)) && req.password === '123456'
          ? { code: 'accept' }
          : { code: 'reject', replyMessage: 'Unknown Challenge' };
      default:
        return { code: 'reject', replyMessage: 'Denied Duo login on auth failure' };
    }
  },
};
const loopback: RadiusClientEntry = {
  name: 'loopback',
  cidr: '127.0.0.1/32',
  secret,
  requireMessageAuthenticator: true,
  limitProxyState: true,
  flow,
};
const server = createRadiusServer({
  listeners: [
    { host: '127.0.0.1', port: 0, clients: [loopback] },
    // Nobody on loopback is a client of this one.
    { host: '127.0.0.1', port: 0, clients: [{ ...loopback, name: 'elsewhere', cidr: '192.0.2.0/24' }] },
  ],
  logger: pino({ level: 'silent' }),
});
let port = 0;
let strangerPort = 0;

beforeAll(async () => {
  const bound = await server.start();
  port = bound[0]!.port;
  strangerPort = bound[1]!.port;
});
afterAll(() => server.stop(100));

const attr = (reply: { attributes: Array<{ name: string; value: string }> }, name: string) =>
  reply.attributes.filter((a) => a.name === name).map((a) => a.value);

describe('radclient → relay packet layer', () => {
  it('Access-Accept with Reply-Message, pass-through Class and Message-Authenticator first', async () => {
    const r = await radclient({
      port,
      secret: SECRET,
      attributes: ['User-Name = "alice"', 'User-Password = "alice-pass"'],
    });
    expect(r.code).toBe('Access-Accept');
    expect(r.attributes[0]!.name).toBe('Message-Authenticator');
    expect(attr(r, 'Reply-Message')).toEqual(['Welcome alice']);
    expect(attr(r, 'Class')).toEqual(['0xcafe']);
  });

  it('Access-Reject with its Reply-Message', async () => {
    const r = await radclient({ port, secret: SECRET, attributes: ['User-Name = "alice"', 'User-Password = "wrong"'] });
    expect(r.code).toBe('Access-Reject');
    expect(attr(r, 'Reply-Message')).toEqual(['Primary credentials rejected']);
  });

  it('Access-Challenge with State, then the answer carrying that State', async () => {
    const first = await radclient({
      port,
      secret: SECRET,
      attributes: ['User-Name = "frank"', 'User-Password = "frank-pass"'],
    });
    expect(first.code).toBe('Access-Challenge');
    expect(attr(first, 'Reply-Message')).toEqual(['Enter passcode:']);
    const [state] = attr(first, 'State');
    expect(state).toBe(`0x${Buffer.from(STATE).toString('hex')}`);
    const second = await radclient({
      port,
      secret: SECRET,
      attributes: ['User-Name = "frank"', 'User-Password = "123456"', `State = ${state}`],
    });
    expect(second.code).toBe('Access-Accept');
  });

  it('Status-Server is answered with Access-Accept', async () => {
    const r = await radclient({ port, secret: SECRET, command: 'status' });
    expect(r.code).toBe('Access-Accept');
    expect(r.attributes.map((a) => a.name)).toEqual(['Message-Authenticator']);
  });

  it('Proxy-State attributes come back unchanged and in order', async () => {
    const r = await radclient({
      port,
      secret: SECRET,
      attributes: ['User-Name = "alice"', 'User-Password = "alice-pass"', 'Proxy-State = 0x03', 'Proxy-State = 0x0102'],
    });
    expect(attr(r, 'Proxy-State')).toEqual(['0x03', '0x0102']);
  });

  it('no reply without Message-Authenticator, with the wrong secret, or from an unknown client', async () => {
    const noMa = await radclient({
      port,
      secret: SECRET,
      messageAuthenticator: false,
      timeoutS: 1,
      attributes: ['User-Name = "alice"', 'User-Password = "alice-pass"'],
    });
    expect(noMa.code).toBeUndefined();
    const wrongSecret = await radclient({
      port,
      secret: 'not-the-secret',
      timeoutS: 1,
      attributes: ['User-Name = "alice"', 'User-Password = "alice-pass"'],
    });
    expect(wrongSecret.code).toBeUndefined();
    const stranger = await radclient({
      port: strangerPort,
      secret: SECRET,
      timeoutS: 1,
      attributes: ['User-Name = "alice"', 'User-Password = "alice-pass"'],
    });
    expect(stranger.code).toBeUndefined();
    const c = server.counters();
    expect(c.missing_message_authenticator).toBeGreaterThanOrEqual(1);
    expect(c.bad_message_authenticator).toBeGreaterThanOrEqual(1);
    expect(c.unknown_client).toBeGreaterThanOrEqual(1);
  });
});

describe('relay codec → FreeRADIUS 3.2', () => {
  const FR_SECRET = 'freeradius-peer-secret-0123456789';
  let fr: FreeRadiusHandle;
  let peer: UdpPeer;

  beforeAll(async () => {
    fr = await startFreeRadius({
      users: [
        { name: 'alice', password: 'alice-pass', replyAttrs: { 'Reply-Message': '"Hello alice"', Class: '0x0102' } },
        { name: 'long', password: 'a-password-that-spans-more-than-two-blocks-of-16' },
      ],
      clients: [{ ip: '127.0.0.1', secret: FR_SECRET }],
    });
    peer = await openUdpPeer();
  });
  afterAll(async () => {
    await peer?.close();
    await fr?.stop();
  });

  async function ask(req: ReturnType<typeof buildRequest>, waitMs = 3000) {
    peer.send(req.bytes, fr.port);
    const bytes = await peer.next(waitMs);
    if (!bytes) return undefined;
    const decoded = decodePacket(bytes);
    if (!decoded.ok) throw new Error(`FreeRADIUS reply undecodable: ${decoded.error.reason}`);
    return decoded.value;
  }

  it('accepts our hidden password and MA, and its reply verifies (Response Authenticator + MA)', async () => {
    const req = buildRequest({ secret: FR_SECRET, identifier: 5, username: 'alice', password: 'alice-pass' });
    const reply = await ask(req);
    expect(reply?.code).toBe(Code.AccessAccept);
    expect(verifyReply(reply!, req, new TextEncoder().encode(FR_SECRET))).toEqual({ ok: true, value: undefined });
    expect(new TextDecoder().decode(getAttribute(reply!, Attr.ReplyMessage))).toBe('Hello alice');
    expect(getAttribute(reply!, Attr.Class)).toEqual(new Uint8Array([1, 2]));
  });

  it('unhides a multi-block password the same way', async () => {
    const req = buildRequest({
      secret: FR_SECRET,
      identifier: 6,
      username: 'long',
      password: 'a-password-that-spans-more-than-two-blocks-of-16',
    });
    const reply = await ask(req);
    expect(reply?.code).toBe(Code.AccessAccept);
    expect(verifyReply(reply!, req, new TextEncoder().encode(FR_SECRET)).ok).toBe(true);
  });

  it('rejects a wrong password with a verifiable Access-Reject', async () => {
    const req = buildRequest({ secret: FR_SECRET, identifier: 7, username: 'alice', password: 'nope' });
    const reply = await ask(req);
    expect(reply?.code).toBe(Code.AccessReject);
    expect(verifyReply(reply!, req, new TextEncoder().encode(FR_SECRET)).ok).toBe(true);
    // The same reply checked against another request's authenticator must fail.
    expect(
      verifyReply(reply!, { ...req, authenticator: new Uint8Array(16) }, new TextEncoder().encode(FR_SECRET)).ok,
    ).toBe(false);
  });

  it('drops our request when its Message-Authenticator is wrong or missing (require_message_authenticator)', async () => {
    const req = buildRequest({ secret: FR_SECRET, identifier: 8, username: 'alice', password: 'alice-pass' });
    const forged = Uint8Array.from(req.bytes);
    forged[25] = forged[25]! ^ 0x40;
    peer.send(forged, fr.port);
    expect(await peer.next(1000)).toBeUndefined();
    const bare = buildRequest({
      secret: FR_SECRET,
      identifier: 9,
      username: 'alice',
      password: 'alice-pass',
      messageAuthenticator: false,
    });
    expect(await ask(bare, 1000)).toBeUndefined();
  });

  it('answers our Status-Server', async () => {
    const req = buildRequest({ secret: FR_SECRET, identifier: 10, code: Code.StatusServer });
    const reply = await ask(req);
    expect(reply?.code).toBe(Code.AccessAccept);
    // FreeRADIUS 3.2.1 predates MA-in-every-reply: only the Response Authenticator is there to check.
    expect(
      verifyReply(reply!, req, new TextEncoder().encode(FR_SECRET), { requireMessageAuthenticator: false }).ok,
    ).toBe(true);
  });
});
