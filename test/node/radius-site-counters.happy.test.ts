import { REPLY } from '@duo-edge/contract/messages';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginFlow } from '../../local-relay/src/flow/types.ts';
import { Code, decodePacket } from '../../local-relay/src/radius/index.ts';
import { createRadiusServer, type RadiusClientEntry } from '../../local-relay/src/server/index.ts';
import { buildRequest, openUdpPeer, type UdpPeer } from '../support/radclient.ts';

/**
 * The server's counters by the site of the client's section (each site's heartbeat carries its
 * own), next to the relay-wide totals (metrics). Three listeners: a site-a NAS, a site-b NAS and
 * one whose only client is elsewhere, so loopback is an unknown client there.
 */

const SECRET = new TextEncoder().encode('site-counters-test-secret-01234');
const flow: LoginFlow = {
  handle: async (req) =>
    req.username === 'denied' ? { code: 'reject', replyMessage: REPLY.authFailure } : { code: 'accept' },
};
const client = (cidr: string, site: string): RadiusClientEntry => ({
  name: `nas-${site}`,
  cidr,
  secret: SECRET,
  requireMessageAuthenticator: true,
  limitProxyState: true,
  site,
  flow,
});
const server = createRadiusServer({
  listeners: [
    { host: '127.0.0.1', port: 0, clients: [client('127.0.0.1', 'site-a')] },
    { host: '127.0.0.1', port: 0, clients: [client('127.0.0.1', 'site-b')] },
    { host: '127.0.0.1', port: 0, clients: [client('192.0.2.1', 'site-c')] },
  ],
  logger: pino({ level: 'silent' }),
});
let ports: number[] = [];
let peer: UdpPeer;

beforeAll(async () => {
  ports = (await server.start()).map((b) => b.port);
  peer = await openUdpPeer();
});
afterAll(async () => {
  await peer.close();
  await server.stop(1_000);
});

async function send(port: number, identifier: number, username: string): Promise<number | undefined> {
  peer.send(buildRequest({ secret: SECRET, identifier, username, password: 'pw' }).bytes, port);
  const reply = await peer.next(2_000);
  const decoded = reply && decodePacket(reply);
  return decoded?.ok ? decoded.value.code : undefined;
}

describe('RADIUS server counters per site', () => {
  it("counts each request under its client's site; what has no client stays relay-wide", async () => {
    const [siteA, siteB, elsewhere] = ports as [number, number, number];
    expect(await send(siteA, 1, 'alice')).toBe(Code.AccessAccept);
    expect(await send(siteA, 2, 'carol')).toBe(Code.AccessAccept);
    expect(await send(siteB, 3, 'denied')).toBe(Code.AccessReject);
    peer.send(buildRequest({ secret: SECRET, identifier: 4, username: 'alice', password: 'pw' }).bytes, elsewhere);
    expect(await peer.next(300)).toBeUndefined();

    expect(server.counters()).toMatchObject({ packets_received: 4, unknown_client: 1, accepts: 2, rejects: 1 });
    expect(server.siteCounters('site-a')).toMatchObject({ access_requests: 2, accepts: 2, rejects: 0 });
    expect(server.siteCounters('site-b')).toMatchObject({ access_requests: 1, accepts: 0, rejects: 1 });
    expect(server.siteCounters('site-c')).toMatchObject({ access_requests: 0, accepts: 0, rejects: 0 });
    for (const site of ['site-a', 'site-b', 'site-c']) {
      expect(server.siteCounters(site)).not.toHaveProperty('packets_received');
      expect(server.siteCounters(site)).not.toHaveProperty('unknown_client');
    }
  });
});
