import { exports } from 'cloudflare:workers';
import { errorResponseSchema } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import { RELAY_A_KEY } from '../support/keys.ts';
import { relayClient } from '../support/relay-signer.ts';

const client = relayClient({
  fetch: (r) => exports.default.fetch(r),
  baseUrl: 'https://edge.test',
  site: 'site-a',
  key: RELAY_A_KEY,
});

async function expect400(res: { status: number; json: unknown; headers: Headers; bytes: Uint8Array }, field?: string) {
  expect(res.status).toBe(400);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = errorResponseSchema.parse(res.json);
  expect(body.error.code).toBe('invalid_request');
  expect(body.error.field).toBe(field);
  return new TextDecoder().decode(res.bytes);
}

describe('POST /v1/preauth refuses bad requests with 400', () => {
  it('malformed JSON', async () => {
    await expect400(await client.call('POST', '/v1/preauth', '{"username": "alice",'));
  });

  it('names the missing field', async () => {
    await expect400(await client.preauth({ username: 'alice' }), 'primary');
  });

  it('names the invalid field without echoing its value', async () => {
    const text = await expect400(
      await client.preauth({ username: 'alice', primary: 'passed', client_ip: 'secret-looking-value' }),
      'client_ip',
    );
    expect(text).not.toContain('secret-looking-value');
  });

  it('names nested fields by path', async () => {
    await expect400(await client.preauth({ username: 'alice', primary: 'passed', nas: { ip: 'nope' } }), 'nas.ip');
  });

  it('refuses an empty or overlong username', async () => {
    await expect400(await client.preauth({ username: '', primary: 'passed' }), 'username');
    await expect400(await client.preauth({ username: 'u'.repeat(254), primary: 'passed' }), 'username');
  });

  it('refuses a JSON body that is not an object', async () => {
    await expect400(await client.call('POST', '/v1/preauth', '[1,2]'));
  });
});

describe('unknown routes and methods', () => {
  it('answer 404 with the error shape', async () => {
    const res = await exports.default.fetch('https://edge.test/v1/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(errorResponseSchema.parse(await res.json()).error.code).toBe('not_found');
  });
});
