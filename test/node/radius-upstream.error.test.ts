import { afterEach, describe, expect, it } from 'vitest';
import { createRadiusUpstreamPrimary, TIMEOUT_DETAIL } from '../../local-relay/src/primary/radius-upstream.ts';
import { Code, MICROSOFT_VENDOR_ID, MsAttr, vendorSpecific } from '../../local-relay/src/radius/index.ts';
import {
  captureLogger,
  fakeReplyBytes,
  fakeUpstream,
  msChapV2NasRequest,
  upstreamConfig,
} from '../support/radius-upstream-fixtures.ts';

/** Retry and failover order (Duo's radius_client semantics) and upstream answers that are not a decision. */

const SECRET = 'fake-upstream-secret-abcdef0123';
const { logger } = captureLogger();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function primaryOver(ports: number[], extra: Record<string, unknown> = {}) {
  const primary = createRadiusUpstreamPrimary(
    upstreamConfig({ hosts: ports.map((p) => `127.0.0.1:${p}`), secret: SECRET, retry_wait_ms: 60, ...extra }),
    { logger },
  );
  cleanups.push(() => primary.close!());
  return primary;
}

async function upstream(answer?: Parameters<typeof fakeUpstream>[1]) {
  const u = await fakeUpstream(SECRET, answer);
  cleanups.push(u.close);
  return u;
}

const login = { username: 'dan', password: 'dan-pass', clientIp: '127.0.0.1' };

describe('retries and failover', () => {
  it('sends retries+1 times, each retry to the next host, then times out', async () => {
    const hosts = [await upstream(), await upstream(), await upstream()];
    const order: number[] = [];
    hosts.forEach((h, i) => {
      h.socket.on('message', () => order.push(i));
    });
    const primary = await primaryOver(hosts.map((h) => h.port));
    expect(await primary.authenticate(login)).toEqual({ kind: 'error', detail: TIMEOUT_DETAIL });
    expect(order).toEqual([0, 1, 2, 0]);
    // One request retransmitted: the same Identifier, authenticator and bytes every time.
    const all = hosts.flatMap((h) => h.received);
    expect(new Set(all.map((p) => Buffer.from(p.bytes).toString('hex'))).size).toBe(1);
  });

  it('honours retries = 0: a single transmission', async () => {
    const a = await upstream();
    const b = await upstream();
    const primary = await primaryOver([a.port, b.port], { retries: 0 });
    expect(await primary.authenticate(login)).toEqual({ kind: 'error', detail: TIMEOUT_DETAIL });
    expect([a.received.length, b.received.length]).toEqual([1, 0]);
  });

  it('takes the answer of whichever host replies, and stops sending', async () => {
    const a = await upstream();
    const b = await upstream(() => ({ code: Code.AccessReject }));
    const primary = await primaryOver([a.port, b.port]);
    expect(await primary.authenticate(login)).toEqual({ kind: 'reject', reason: 'upstream rejected' });
    await new Promise((r) => setTimeout(r, 200));
    expect([a.received.length, b.received.length]).toEqual([1, 1]);
  });

  it('a late answer from the first host to its original transmission still counts', async () => {
    const a = await upstream();
    const b = await upstream();
    const firstFrom = new Promise<number>((res) => {
      a.socket.once('message', (_m, rinfo) => res(rinfo.port));
    });
    const primary = await primaryOver([a.port, b.port], { retry_wait_ms: 100 });
    const pending = primary.authenticate(login);
    const port = await firstFrom;
    while (b.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    // The request has moved on to b; a's answer to the first transmission arrives now.
    a.socket.send(fakeReplyBytes(a.received[0]!, { code: Code.AccessAccept }, SECRET), port, '127.0.0.1');
    expect((await pending).kind).toBe('accept');
  });
});

describe('answers that are not a decision', () => {
  it('an Access-Challenge is neither a reject nor an accept: a challenge to continue at that server', async () => {
    const a = await upstream(() => ({ code: Code.AccessChallenge }));
    const primary = await primaryOver([a.port]);
    // No State in it: the answer will go back without one.
    expect(await primary.authenticate(login)).toEqual({
      kind: 'challenge',
      replyMessage: '',
      continuation: { host: '127.0.0.1', port: a.port },
    });
  });

  it('any other authentic reply code is an error', async () => {
    const a = await upstream(() => ({ code: Code.AccountingResponse }));
    const primary = await primaryOver([a.port]);
    expect(await primary.authenticate(login)).toEqual({
      kind: 'error',
      detail: 'unexpected RADIUS reply code 5 from upstream',
    });
  });

  it('an abort ends the exchange at once', async () => {
    const a = await upstream();
    const primary = await primaryOver([a.port], { retry_wait_ms: 10_000 });
    const controller = new AbortController();
    const pending = primary.authenticate(login, controller.signal);
    controller.abort();
    expect(await pending).toEqual({ kind: 'error', detail: 'RADIUS auth request aborted' });
  });

  it('an undecryptable MPPE key turns the Accept into an error', async () => {
    const garbage = vendorSpecific(MICROSOFT_VENDOR_ID, MsAttr.MsMppeSendKey, new Uint8Array(5));
    if (!garbage.ok) throw new Error('vsa');
    const a = await upstream(() => ({ code: Code.AccessAccept, attributes: [garbage.value] }));
    const primary = await primaryOver([a.port]);
    const ms = msChapV2NasRequest('erin', 'erin-pass');
    expect(await primary.authenticate({ username: 'erin', clientIp: '127.0.0.1', raw: ms.raw })).toEqual({
      kind: 'error',
      detail: 'invalid MPPE key in upstream reply',
    });
  });

  it('a password longer than RADIUS can carry is rejected without a transmission', async () => {
    const a = await upstream(() => ({ code: Code.AccessAccept }));
    const primary = await primaryOver([a.port]);
    const outcome = await primary.authenticate({ ...login, password: 'x'.repeat(129) });
    expect(outcome).toEqual({ kind: 'reject', reason: 'password too long to forward over RADIUS' });
    expect(a.received).toHaveLength(0);
  });

  it('after close, requests error instead of hanging', async () => {
    const a = await upstream(() => ({ code: Code.AccessAccept }));
    const primary = await primaryOver([a.port]);
    await primary.close!();
    expect(await primary.authenticate(login)).toEqual({ kind: 'error', detail: 'RADIUS auth request aborted' });
  });
});
