import { exports } from 'cloudflare:workers';
import { utf8 } from '@duo-edge/contract/encoding';
import { HEADER, MAX_BODY_BYTES } from '@duo-edge/contract/signing';
import { errorResponseSchema } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import { RELAY_A_KEY, RELAY_A_REVOKED_KEY, RELAY_B_KEY, STRANGER_KEY, type TestKeyPair } from '../support/keys.ts';
import { type RelayRequestInput, relayClient, signRelayRequest } from '../support/relay-signer.ts';

const fetchEdge = (r: Request) => exports.default.fetch(r);
const BASE = 'https://edge.test';
const as = (site: string, key: TestKeyPair) => relayClient({ fetch: fetchEdge, baseUrl: BASE, site, key });
const login = { username: 'carol', primary: 'passed' };

async function expectRefused(res: { status: number; json: unknown; headers: Headers }, status = 401) {
  expect(res.status).toBe(status);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get(HEADER.decisionSignature)).toBeNull();
  const body = errorResponseSchema.parse(res.json);
  expect(body.error.code).toBe(status === 401 ? 'unauthorized' : 'payload_too_large');
}

/** Signs `signed`, then sends the request with `tamper` applied to it. */
async function sendTampered(signed: RelayRequestInput, tamper: (r: { url: string; init: RequestInit }) => void) {
  const s = await signRelayRequest(signed);
  const r = {
    url: `${BASE}${signed.path}`,
    init: { method: signed.method, headers: { ...s.headers }, ...(s.body ? { body: s.body } : {}) } as RequestInit,
  };
  tamper(r);
  const res = await fetchEdge(new Request(r.url, r.init));
  return { status: res.status, json: await res.json(), headers: res.headers };
}

const valid = (): RelayRequestInput => ({
  site: 'site-a',
  key: RELAY_A_KEY,
  method: 'POST',
  path: '/v1/preauth',
  body: login,
});

describe('relay authentication refuses', () => {
  it('an unsigned request', async () => {
    const res = await fetchEdge(
      new Request(`${BASE}/v1/preauth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(login),
      }),
    );
    await expectRefused({ status: res.status, json: await res.json(), headers: res.headers });
  });

  it.each(Object.values(HEADER).filter((h) => h !== HEADER.decisionSignature))(
    'a request without %s',
    async (header) => {
      await expectRefused(
        await sendTampered(valid(), (r) => {
          delete (r.init.headers as Record<string, string>)[header];
        }),
      );
    },
  );

  it('a key that no site lists', async () => {
    await expectRefused(await as('site-a', STRANGER_KEY).preauth(login));
  });

  it("another site's key", async () => {
    await expectRefused(await as('site-a', RELAY_B_KEY).preauth(login));
  });

  it('an unknown site', async () => {
    await expectRefused(await as('site-z', RELAY_A_KEY).preauth(login));
  });

  it('a revoked key', async () => {
    await expectRefused(await as('site-a', RELAY_A_REVOKED_KEY).preauth(login));
  });

  it('a listed key id with a signature by another key', async () => {
    await expectRefused(
      await sendTampered({ ...valid(), key: STRANGER_KEY }, (r) => {
        (r.init.headers as Record<string, string>)[HEADER.key] = RELAY_A_KEY.publicKey;
      }),
    );
  });

  it('a timestamp 61 s old (replay), or 61 s ahead', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await as('site-a', RELAY_A_KEY).preauth(login, { timestamp: now - 61 }));
    await expectRefused(await as('site-a', RELAY_A_KEY).preauth(login, { timestamp: now + 61 }));
  });

  it('a malformed nonce or timestamp', async () => {
    await expectRefused(await as('site-a', RELAY_A_KEY).preauth(login, { nonce: 'short' }));
    await expectRefused(await as('site-a', RELAY_A_KEY).preauth(login, { nonce: `${'a'.repeat(21)}!` }));
    await expectRefused(
      await sendTampered(valid(), (r) => {
        (r.init.headers as Record<string, string>)[HEADER.timestamp] = `${Math.floor(Date.now() / 1000)}.0`;
      }),
    );
  });

  it('a tampered body', async () => {
    await expectRefused(
      await sendTampered(valid(), (r) => {
        r.init.body = JSON.stringify({ ...login, username: 'alice' });
      }),
    );
  });

  it('a signature replayed onto another path', async () => {
    await expectRefused(
      await sendTampered(valid(), (r) => {
        r.url = `${BASE}/v1/auth`;
      }),
    );
  });

  it('a signature replayed with another method', async () => {
    await expectRefused(
      await sendTampered({ ...valid(), method: 'GET', path: '/v1/site', body: undefined }, (r) => {
        r.init.method = 'POST';
      }),
    );
  });

  it('a signature replayed under another site id', async () => {
    // site-b does not list the key: refused before the signature is even checked.
    await expectRefused(
      await sendTampered(valid(), (r) => {
        (r.init.headers as Record<string, string>)[HEADER.site] = 'site-b';
      }),
    );
  });

  it('a corrupted signature', async () => {
    await expectRefused(
      await sendTampered(valid(), (r) => {
        const h = r.init.headers as Record<string, string>;
        const sig = h[HEADER.signature] ?? '';
        h[HEADER.signature] = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
      }),
    );
  });

  it('an oversize body, even correctly signed (413)', async () => {
    const big = { ...login, username: 'x'.repeat(MAX_BODY_BYTES) };
    await expectRefused(await as('site-a', RELAY_A_KEY).preauth(big), 413);
  });

  it('an oversize body streamed without Content-Length (413)', async () => {
    const s = await signRelayRequest({ ...valid(), body: 'y'.repeat(MAX_BODY_BYTES + 1) });
    const chunk = utf8('y'.repeat(4096));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const res = await fetchEdge(new Request(`${BASE}/v1/preauth`, { method: 'POST', headers: s.headers, body }));
    await expectRefused({ status: res.status, json: await res.json(), headers: res.headers }, 413);
  });

  it('and accepts the same request untampered (control)', async () => {
    const res = await as('site-a', RELAY_A_KEY).preauth(login);
    expect(res.status).toBe(200);
  });

  it('a body just at the limit is not refused for its size', async () => {
    const res = await as('site-a', RELAY_A_KEY).call('POST', '/v1/preauth', 'z'.repeat(MAX_BODY_BYTES));
    expect(res.status).toBe(400);
  });
});
