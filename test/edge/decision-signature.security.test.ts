import { exports } from 'cloudflare:workers';
import { HEADER } from '@duo-edge/contract/signing';
import { describe, expect, it } from 'vitest';
import { EDGE_KEY, RELAY_A_KEY, STRANGER_KEY } from '../support/keys.ts';
import { newLoginId, randomNonce, relayClient, verifyDecisionSignature } from '../support/relay-signer.ts';

const client = relayClient({
  fetch: (r) => exports.default.fetch(r),
  baseUrl: 'https://edge.test',
  site: 'site-a',
  key: RELAY_A_KEY,
});

const check = (
  path: string,
  nonce: string,
  body: Uint8Array<ArrayBuffer>,
  signature: string | null,
  edgePublicKey = EDGE_KEY.publicKey,
) => verifyDecisionSignature({ edgePublicKey, path, nonce, body, signature });

describe('edge decision signatures', () => {
  it.each([
    ['/v1/preauth', () => client.preauth({ username: 'carol', primary: 'passed' })],
    [
      '/v1/auth',
      () =>
        client.auth({
          username: 'frank',
          factor: 'passcode',
          passcode: '123456',
          primary: 'passed',
          login_id: newLoginId(),
        }),
    ],
    ['/v1/site', () => client.site()],
  ])('%s: verifies with the edge public key, bound to the request nonce', async (path, send) => {
    const res = await send();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await check(path, res.nonce, res.bytes, res.headers.get(HEADER.decisionSignature))).toBe(true);
  });

  it('fails when any single byte of the body changes', async () => {
    const res = await client.preauth({ username: 'dave', primary: 'passed' });
    const signature = res.headers.get(HEADER.decisionSignature);
    for (let i = 0; i < res.bytes.length; i++) {
      const forged = res.bytes.slice();
      forged[i] = (forged[i] ?? 0) ^ 0x01;
      expect(await check('/v1/preauth', res.nonce, forged, signature)).toBe(false);
    }
  });

  it('a middlebox cannot turn a deny into an allow', async () => {
    const res = await client.preauth({ username: 'dave', primary: 'passed' });
    const text = new TextDecoder().decode(res.bytes);
    expect(text).toContain('"deny"');
    const forged = new TextEncoder().encode(text.replace('"deny"', '"allow"')) as Uint8Array<ArrayBuffer>;
    expect(await check('/v1/preauth', res.nonce, forged, res.headers.get(HEADER.decisionSignature))).toBe(false);
  });

  it('fails when replayed onto another request nonce or path', async () => {
    const res = await client.preauth({ username: 'carol', primary: 'passed' });
    const signature = res.headers.get(HEADER.decisionSignature);
    expect(await check('/v1/preauth', randomNonce(), res.bytes, signature)).toBe(false);
    expect(await check('/v1/auth', res.nonce, res.bytes, signature)).toBe(false);
  });

  it('fails against any other public key', async () => {
    const res = await client.preauth({ username: 'carol', primary: 'passed' });
    const signature = res.headers.get(HEADER.decisionSignature);
    expect(await check('/v1/preauth', res.nonce, res.bytes, signature, STRANGER_KEY.publicKey)).toBe(false);
  });

  it('errors and unauthenticated routes carry no decision signature', async () => {
    const bad = await client.preauth({ username: '', primary: 'passed' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get(HEADER.decisionSignature)).toBeNull();
    const health = await exports.default.fetch('https://edge.test/v1/health');
    expect(health.headers.get(HEADER.decisionSignature)).toBeNull();
  });
});
