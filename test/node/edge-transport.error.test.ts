import { constants } from 'node:http2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStallProxy } from '../support/stall-proxy.ts';
import { authFor, PREAUTH, type TransportHarness, transportHarness } from '../support/transport-harness.ts';
import { freeTcpPort, waitFor } from '../support/wait.ts';

let h: TransportHarness;
beforeAll(async () => {
  h = await transportHarness();
});
afterEach(() => h.cleanup());
afterAll(() => h.remove());

const authsOf = (e: { requests: Array<{ path: string; loginId?: string }> }) =>
  e.requests.filter((r) => r.path === 'POST /v1/auth').map((r) => r.loginId);

describe('edge transport: an h2 session lost or told to go away', () => {
  it('connection lost while a push waits: that call is a reset (never resent), the next opens a new session', async () => {
    const e = await h.edge({ protocol: 'h2', holdAuth: true });
    const second = await h.edge({ protocol: 'h2', holdAuth: true });
    const { c } = await h.client([e.url, second.url]);
    const push = c.auth(authFor(1));
    await waitFor(() => e.held() === 1, 5_000, 'the push held at the edge');
    for (const s of e.sessions()) s.socket.destroy();
    expect(await push).toMatchObject({ kind: 'transport', cause: 'reset' });
    // The edge may have sent the push: neither the same URL nor the next one gets it again.
    expect(authsOf(e)).toEqual([authFor(1).login_id]);
    expect(authsOf(second)).toEqual([]);
    expect(await c.preauth(PREAUTH)).toMatchObject({ kind: 'ok' });
    expect(e.connections()).toBe(2);
    expect(second.requests).toEqual([]);
  });

  it.each([
    ['NO_ERROR', constants.NGHTTP2_NO_ERROR],
    ['ENHANCE_YOUR_CALM', constants.NGHTTP2_ENHANCE_YOUR_CALM],
  ])(
    'GOAWAY (%s): streams above its last stream id go again on a new session, once; the one below ends with the connection',
    async (_, code) => {
      const e = await h.edge({ protocol: 'h2', holdAuth: true });
      const { c } = await h.client([e.url]);
      const pushes = [1, 2, 3].map((n) => c.auth(authFor(n)));
      await waitFor(() => e.held() === 3, 5_000, 'three pushes held at the edge');
      const [session] = e.sessions();
      const firstId = Math.min(...e.requests.map((r) => r.streamId!));
      // As a server going away does: it promises to process nothing above firstId, and never answers those.
      e.drop((id) => id > firstId);
      session!.goaway(code, firstId);
      await waitFor(() => e.held() === 3, 5_000, 'the two refused pushes sent again on a new session');
      expect(e.connections()).toBe(2);
      // The old connection then dies with the first push on it: that one may have been sent, so reset.
      session!.destroy();
      e.release();
      const results = await Promise.all(pushes);
      const firstLogin = e.requests.find((r) => r.streamId === firstId)!.loginId;
      const byLogin = new Map([1, 2, 3].map((n, i) => [authFor(n).login_id, results[i]!]));
      expect(byLogin.get(firstLogin!)).toMatchObject({ kind: 'transport', cause: 'reset' });
      expect([...byLogin.values()].filter((r) => r.kind === 'ok')).toHaveLength(2);
      // Every login reached the edge's processing once: the refused ones were never processed there.
      const sent = authsOf(e);
      expect(sent).toHaveLength(5);
      for (const n of [1, 2, 3]) {
        const id = authFor(n).login_id;
        expect(sent.filter((l) => l === id)).toHaveLength(id === firstLogin ? 1 : 2);
      }
    },
  );

  it.each([
    // No stream allowed: the call never gets one and waits on the reconnects until its deadline.
    // 100 ms doubling: opens at 0, 0.1, 0.3, 0.7 and 1.5 s. Without a pause, hundreds.
    { streams: 0, cause: 'timeout', atMost: 8 },
    // Its stream goes out and is refused (above last stream 0): sent once more, refused again.
    { streams: 100, cause: 'refused', atMost: 2 },
  ])(
    'GOAWAY right after SETTINGS (max $streams streams) on every connection: reconnects pause, the call ends ($cause), never processed',
    async ({ streams, cause, atMost }) => {
      const e = await h.edge({ protocol: 'h2', goawayAtStart: true, maxConcurrentStreams: streams });
      const { c } = await h.client([e.url], {}, { authTimeoutMs: 2_000 });
      expect(await c.auth(authFor(1))).toMatchObject({ kind: 'transport', cause });
      expect(e.connections()).toBeGreaterThanOrEqual(2);
      expect(e.connections()).toBeLessThanOrEqual(atMost);
      expect(authsOf(e)).toEqual([]);
    },
  );

  it('a new call after GOAWAY goes to a new session', async () => {
    const e = await h.edge({ protocol: 'h2' });
    const { c } = await h.client([e.url]);
    expect((await c.preauth(PREAUTH)).kind).toBe('ok');
    for (const s of e.sessions()) s.goaway(constants.NGHTTP2_NO_ERROR, 1);
    await new Promise((r) => setTimeout(r, 100));
    expect((await c.preauth(PREAUTH)).kind).toBe('ok');
    expect(e.connections()).toBe(2);
  });
});

describe('edge transport: a path that stops answering PINGs', () => {
  it('the PING goes unanswered: the session is dropped, the waiting push ends as a reset (never resent), the next call opens a new session', async () => {
    const e = await h.edge({ protocol: 'h2', holdAuth: true });
    const hop = await startStallProxy(e.url);
    try {
      const { c } = await h.client([hop.url], { ping: { everyMs: 200, timeoutMs: 300 } }, { authTimeoutMs: 5_000 });
      const push = c.auth(authFor(1));
      await waitFor(() => e.held() === 1, 5_000, 'the push held at the edge');
      hop.stall();
      // A PING within 200 ms, no answer 300 ms later: a reset, long before the push's own deadline
      // (which would end it as a timeout).
      expect(await push).toMatchObject({ kind: 'transport', cause: 'reset' });
      expect(authsOf(e)).toEqual([authFor(1).login_id]);
      expect(await c.preauth(PREAUTH)).toMatchObject({ kind: 'ok' });
      expect(hop.connections()).toBe(2);
      expect(e.connections()).toBe(2);
    } finally {
      await hop.close();
    }
  });
});

describe('edge transport: answers past the size cap', () => {
  it.each(['h2', 'https', 'http'] as const)(
    '%s: an endless answer is dropped at the cap, unverified before its signature is looked at',
    async (protocol) => {
      const e = await h.edge({ protocol, endless: true });
      const { c } = await h.client([e.url]);
      expect(await c.preauth(PREAUTH)).toEqual({ kind: 'unverified', detail: 'response over 65536 bytes' });
      // The relay stopped reading: the server could not push much past the cap and its buffers.
      expect(e.endlessWritten()).toBeLessThan(8 * 1024 * 1024);
    },
  );
});

describe('edge transport: answers that declare too much or stop halfway', () => {
  it.each(['h2', 'https', 'http'] as const)(
    '%s: a Content-Length over the cap is dropped at the headers, unverified',
    async (protocol) => {
      const e = await h.edge({ protocol, declaresOver: true });
      const { c } = await h.client([e.url]);
      expect(await c.preauth(PREAUTH)).toEqual({ kind: 'unverified', detail: 'response over 65536 bytes' });
    },
  );

  it.each(['h2', 'https', 'http'] as const)(
    '%s: a push answer cut off halfway is a reset: never an answer, never sent to the next URL',
    async (protocol) => {
      const e = await h.edge({ protocol, cutOff: true });
      const second = await h.edge({ protocol });
      const { c } = await h.client([e.url, second.url]);
      expect(await c.auth(authFor(1))).toMatchObject({ kind: 'transport', cause: 'reset' });
      expect(authsOf(e)).toEqual([authFor(1).login_id]);
      expect(authsOf(second)).toEqual([]);
    },
  );
});

describe('edge transport: a redirect', () => {
  it.each(['h2', 'https', 'http'] as const)(
    '%s: not followed, and unverifiable rather than an outage (a safe site must not fail open on it)',
    async (protocol) => {
      const e = await h.edge({ protocol, redirect: 302 });
      const { c } = await h.client([e.url]);
      expect(await c.preauth(PREAUTH)).toEqual({ kind: 'unverified', detail: 'redirect (HTTP 302) not followed' });
      expect(e.requests.map((r) => r.path)).toEqual(['POST /v1/preauth']);
    },
  );
});

describe('edge transport: failover to the next URL, in order', () => {
  it('the first URL refuses: the next answers', async () => {
    const e = await h.edge({ protocol: 'h2' });
    const { c } = await h.client([`https://127.0.0.1:${await freeTcpPort()}`, e.url]);
    expect((await c.preauth(PREAUTH)).kind).toBe('ok');
    expect(e.requests).toHaveLength(1);
  });

  it("the first URL's session dies and it is gone: the next URL answers, the first is tried first again", async () => {
    const first = await h.edge({ protocol: 'h2' });
    const second = await h.edge({ protocol: 'h2' });
    const { c } = await h.client([first.url, second.url]);
    expect((await c.preauth(PREAUTH)).kind).toBe('ok');
    expect([first.requests.length, second.requests.length]).toEqual([1, 0]);
    await first.close();
    expect((await c.preauth(PREAUTH)).kind).toBe('ok');
    expect([first.requests.length, second.requests.length]).toEqual([1, 1]);
  });
});
