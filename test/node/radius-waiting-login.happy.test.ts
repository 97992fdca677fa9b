import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AuthResponse, Device } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import type { EdgeResult } from '../../local-relay/src/edge/result.ts';
import type { PrimaryAuthenticator } from '../../local-relay/src/primary/types.ts';
import { Attr, Code, decodePacket, getAttributes, verifyReply } from '../../local-relay/src/radius/index.ts';
import type { RadiusRawRequest } from '../../local-relay/src/server/types.ts';
import { flowModes, recordingEdge, wireFlow } from '../support/flow-fixtures.ts';
import { buildRequest } from '../support/radclient.ts';
import { oneClientServer } from '../support/radius-server-fixture.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A login waiting on its push (minutes, thousands at once) keeps what its reply needs and no more:
 * the reply is still exactly right for the request, and the decoded request and its datagram are
 * garbage while the push waits.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SECRET = new TextEncoder().encode('waiting-login-test-secret-0123');
const PROXY_STATES = ['first hop', 'second hop', 'third'].map((s) => new TextEncoder().encode(s));
const PUSH_PHONE: Device = { device: 'DPHONE1', type: 'phone', capabilities: ['auto', 'push'] };
const ALLOW: AuthResponse = { result: 'allow', message: 'Success. Logging you in...', source: 'duo', status: 'allow' };

/** What the primary saw of the request, weakly: a strong reference here would keep it alive itself. */
const seen: { packet?: WeakRef<object>; datagram?: WeakRef<object> } = {};
const primary: PrimaryAuthenticator = {
  kind: 'users_file',
  async authenticate(req) {
    const raw = req.raw as RadiusRawRequest;
    seen.packet = new WeakRef(raw.packet);
    seen.datagram = new WeakRef(raw.packet.bytes.buffer);
    return { kind: 'accept' };
  },
};
let answerPush: (r: EdgeResult<AuthResponse>) => void = () => {};
const { edge, calls } = recordingEdge(() => ({
  kind: 'ok',
  value: { result: 'auth', message: 'Account is active', source: 'duo', devices: [PUSH_PHONE], factors: {} },
}));
edge.auth = async (r) => {
  calls.auth.push(r);
  return new Promise((resolve) => {
    answerPush = resolve;
  });
};
const { flow } = wireFlow(flowModes().auto, { primary, edge });
const radius = oneClientServer({
  secret: SECRET,
  requireMessageAuthenticator: true,
  limitProxyState: true,
  flow,
});

describe('a login waiting on its push', () => {
  it('holds neither the decoded request nor its datagram, and its reply is still exactly the request’s', async () => {
    const request = buildRequest({
      secret: SECRET,
      identifier: 77,
      username: 'alice',
      password: 'alice-pass',
      attributes: PROXY_STATES.map((value) => ({ type: Attr.ProxyState, value })),
    });
    radius.nas.send(request.bytes, radius.port);
    await waitFor(() => calls.auth.length === 1, 2_000, 'the push asked for');
    // The NAS retransmits while the push waits: the same login, not a second one.
    radius.nas.send(request.bytes, radius.port);
    await waitFor(() => radius.server.counters().duplicates_in_flight === 1, 2_000, 'the retransmit seen');
    // A task later (WeakRefs read in the task that made them stay alive until it ends), collected.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(seen.packet?.deref(), 'the decoded request').toBeUndefined();
    expect(seen.datagram?.deref(), 'the datagram copy').toBeUndefined();
    expect(radius.server.inFlight()).toBe(1);

    answerPush({ kind: 'ok', value: ALLOW });
    const bytes = await radius.nas.next(2_000);
    const reply = bytes && decodePacket(bytes);
    expect(reply?.ok).toBe(true);
    if (!reply?.ok) return;
    expect(reply.value.code).toBe(Code.AccessAccept);
    // Identifier, Response Authenticator over the request's authenticator, Message-Authenticator.
    expect(verifyReply(reply.value, request, SECRET)).toEqual({ ok: true, value: undefined });
    expect(reply.value.attributes[0]!.type).toBe(Attr.MessageAuthenticator);
    expect(getAttributes(reply.value, Attr.ProxyState)).toEqual(PROXY_STATES);
    // A retransmit after the answer gets the same bytes again, and no login of its own.
    radius.nas.send(request.bytes, radius.port);
    expect(await radius.nas.next(2_000)).toEqual(bytes);
    expect(calls.auth).toHaveLength(1);
    expect(radius.server.counters()).toMatchObject({ access_requests: 1, duplicates_replayed: 1, accepts: 1 });
  });
});
