import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createRadiusUpstreamPrimary, TIMEOUT_DETAIL } from '../../local-relay/src/primary/radius-upstream.ts';
import { Attr, Code, textAttribute } from '../../local-relay/src/radius/index.ts';
import {
  captureLogger,
  type FakeReply,
  fakeReplyBytes,
  fakeUpstream,
  upstreamConfig,
} from '../support/radius-upstream-fixtures.ts';

/**
 * Only an authentic Access-Accept/Reject answers the upstream request: a reply with a wrong or
 * missing Message-Authenticator, a wrong Response Authenticator, or from an address the request
 * never went to is dropped as if it had not arrived, and a genuine reply to a retransmission
 * still wins afterwards.
 */

const SECRET = 'fake-upstream-secret-security-1';
const { logger, lines } = captureLogger();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** First transmission gets `forged`, every retransmission a genuine signed Access-Reject. */
async function forgedThenGenuine(forged: FakeReply, config: Record<string, unknown> = {}) {
  const upstream = await fakeUpstream(SECRET, (_req, i) => (i === 0 ? forged : { code: Code.AccessReject }));
  const primary = createRadiusUpstreamPrimary(
    upstreamConfig({ hosts: [`127.0.0.1:${upstream.port}`], secret: SECRET, retry_wait_ms: 80, ...config }),
    { logger },
  );
  cleanups.push(upstream.close, () => primary.close!());
  const outcome = await primary.authenticate({ username: 'eve', password: 'eve-pass', clientIp: '127.0.0.1' });
  return { outcome, transmissions: upstream.received.length };
}

const forgedAccept = (f: Partial<FakeReply>): FakeReply => ({
  code: Code.AccessAccept,
  attributes: [textAttribute(Attr.FilterId, 'admin')],
  ...f,
});

describe('upstream reply authentication', () => {
  it('drops an Accept with a bad Message-Authenticator; the genuine Reject wins', async () => {
    const r = await forgedThenGenuine(forgedAccept({ ma: 'bad' }));
    expect(r.outcome).toEqual({ kind: 'reject', reason: 'upstream rejected' });
    expect(r.transmissions).toBe(2);
  });

  it('drops a bad Message-Authenticator even with require_message_authenticator = false', async () => {
    const r = await forgedThenGenuine(forgedAccept({ ma: 'bad' }), { require_message_authenticator: false });
    expect(r.outcome.kind).toBe('reject');
  });

  it('drops an Accept without Message-Authenticator by default (BlastRADIUS)', async () => {
    const r = await forgedThenGenuine(forgedAccept({ ma: 'none' }));
    expect(r.outcome.kind).toBe('reject');
    expect(lines.join('\n')).toContain('missing_message_authenticator');
  });

  it('takes an unsigned Accept only when require_message_authenticator = false', async () => {
    const r = await forgedThenGenuine(forgedAccept({ ma: 'none' }), { require_message_authenticator: false });
    expect(r.outcome.kind).toBe('accept');
    expect(r.transmissions).toBe(1);
  });

  it('drops an Accept signed with another secret (bad Response Authenticator)', async () => {
    const r = await forgedThenGenuine(forgedAccept({ secret: 'attacker-secret' }));
    expect(r.outcome.kind).toBe('reject');
  });

  it('drops a valid-looking Accept from an address the request was not sent to', async () => {
    const spoofer = createSocket('udp4');
    await new Promise<void>((res) => spoofer.bind(0, '127.0.0.1', () => res()));
    const upstream = await fakeUpstream(SECRET, (_req, i) => (i === 0 ? undefined : { code: Code.AccessReject }));
    upstream.socket.once('message', (_m, rinfo) => {
      // Signed with the right secret, but sent from another port than the upstream's.
      spoofer.send(fakeReplyBytes(upstream.received[0]!, forgedAccept({}), SECRET), rinfo.port, '127.0.0.1');
    });
    const primary = createRadiusUpstreamPrimary(
      upstreamConfig({ hosts: [`127.0.0.1:${upstream.port}`], secret: SECRET, retry_wait_ms: 80 }),
      { logger },
    );
    cleanups.push(
      upstream.close,
      () => primary.close!(),
      () => new Promise((res) => spoofer.close(() => res())),
    );
    expect((await primary.authenticate({ username: 'eve', password: 'eve-pass', clientIp: '127.0.0.1' })).kind).toBe(
      'reject',
    );
  });

  it('times out when every reply is forged', async () => {
    const upstream = await fakeUpstream(SECRET, () => forgedAccept({ ma: 'bad' }));
    const primary = createRadiusUpstreamPrimary(
      upstreamConfig({ hosts: [`127.0.0.1:${upstream.port}`], secret: SECRET, retries: 1, retry_wait_ms: 50 }),
      { logger },
    );
    cleanups.push(upstream.close, () => primary.close!());
    expect(await primary.authenticate({ username: 'eve', password: 'eve-pass', clientIp: '127.0.0.1' })).toEqual({
      kind: 'error',
      detail: TIMEOUT_DETAIL,
    });
  });

  it('never logs the password or the secrets', () => {
    const all = lines.join('\n');
    expect(all).not.toContain('eve-pass');
    expect(all).not.toContain(SECRET);
  });
});
