import { REPLY } from '@duo-edge/contract/messages';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginFlow } from '../../local-relay/src/flow/types.ts';
import { Code, decodePacket } from '../../local-relay/src/radius/index.ts';
import { createRadiusServer } from '../../local-relay/src/server/index.ts';
import { buildRequest, openUdpPeer, type UdpPeer } from '../support/radclient.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = new TextEncoder().encode('reject-delay-test-secret-012345');
/** A Duo denial for `denied`, an accept for anyone else: the delay depends on the code, not the cause. */
const flow: LoginFlow = {
  handle: async (req) =>
    req.username === 'denied' ? { code: 'reject', replyMessage: REPLY.authFailure } : { code: 'accept' },
};
const server = createRadiusServer({
  listeners: [
    {
      host: '127.0.0.1',
      port: 0,
      clients: [
        {
          name: 'nas',
          cidr: '127.0.0.1',
          secret: SECRET,
          requireMessageAuthenticator: true,
          limitProxyState: true,
          rejectDelayMs: 400,
          flow,
        },
      ],
    },
  ],
  logger: pino({ level: 'silent' }),
});
let port = 0;
let peer: UdpPeer;

beforeAll(async () => {
  port = (await server.start())[0]!.port;
  peer = await openUdpPeer();
});
afterAll(async () => {
  await peer.close();
  await server.stop(1_000);
});

const codeOf = (b: Uint8Array | undefined) => {
  const d = b && decodePacket(b);
  return d?.ok ? { id: d.value.identifier, code: d.value.code } : undefined;
};

describe('Access-Reject delay', () => {
  it('sends a Duo denial after the accept that was asked for later, and keeps it in flight until then', async () => {
    const denied = buildRequest({ secret: SECRET, identifier: 1, username: 'denied', password: 'push' });
    const allowed = buildRequest({ secret: SECRET, identifier: 2, username: 'alice', password: 'push' });
    peer.send(denied.bytes, port);
    await waitFor(() => server.counters().access_requests === 1, 2_000, 'reject decided');
    peer.send(allowed.bytes, port);
    expect(codeOf(await peer.next(2_000))).toEqual({ id: 2, code: Code.AccessAccept });
    // Still waiting: counted in flight (stop() waits for it), not yet counted as sent.
    expect(server.inFlight()).toBe(1);
    expect(server.counters().rejects).toBe(0);
    expect(codeOf(await peer.next(2_000))).toEqual({ id: 1, code: Code.AccessReject });
    expect(server.counters()).toMatchObject({ rejects: 1, accepts: 1 });
    expect(server.inFlight()).toBe(0);
  });
});
