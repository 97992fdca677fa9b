import { REPLY } from '@duo-edge/contract/messages';
import { describe, expect, it } from 'vitest';
import type { LoginFlow } from '../../local-relay/src/flow/types.ts';
import { Code, decodePacket } from '../../local-relay/src/radius/index.ts';
import { buildRequest } from '../support/radclient.ts';
import { oneClientServer } from '../support/radius-server-fixture.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = new TextEncoder().encode('reject-delay-test-secret-012345');
/** A Duo denial for `denied`, an accept for anyone else: the delay depends on the code, not the cause. */
const flow: LoginFlow = {
  handle: async (req) =>
    req.username === 'denied' ? { code: 'reject', replyMessage: REPLY.authFailure } : { code: 'accept' },
};
const radius = oneClientServer({
  secret: SECRET,
  requireMessageAuthenticator: true,
  limitProxyState: true,
  rejectDelayMs: 400,
  flow,
});

const codeOf = (b: Uint8Array | undefined) => {
  const d = b && decodePacket(b);
  return d?.ok ? { id: d.value.identifier, code: d.value.code } : undefined;
};

describe('Access-Reject delay', () => {
  it('sends a Duo denial after the accept that was asked for later, and keeps it in flight until then', async () => {
    const denied = buildRequest({ secret: SECRET, identifier: 1, username: 'denied', password: 'push' });
    const allowed = buildRequest({ secret: SECRET, identifier: 2, username: 'alice', password: 'push' });
    radius.nas.send(denied.bytes, radius.port);
    await waitFor(() => radius.server.counters().access_requests === 1, 2_000, 'reject decided');
    radius.nas.send(allowed.bytes, radius.port);
    expect(codeOf(await radius.nas.next(2_000))).toEqual({ id: 2, code: Code.AccessAccept });
    // Still waiting: counted in flight (stop() waits for it), not yet counted as sent.
    expect(radius.server.inFlight()).toBe(1);
    expect(radius.server.counters().rejects).toBe(0);
    expect(codeOf(await radius.nas.next(2_000))).toEqual({ id: 1, code: Code.AccessReject });
    expect(radius.server.counters()).toMatchObject({ rejects: 1, accepts: 1 });
    expect(radius.server.inFlight()).toBe(0);
  });
});
