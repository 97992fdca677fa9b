import { exports } from 'cloudflare:workers';
import { errorResponseSchema } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import { RELAY_B_KEY } from '../support/keys.ts';
import { newLoginId, relayClient } from '../support/relay-signer.ts';

const client = relayClient({
  fetch: (r) => exports.default.fetch(r),
  baseUrl: 'https://edge.test',
  site: 'site-b',
  key: RELAY_B_KEY,
});

async function fieldOf(body: Record<string, unknown>) {
  const res = await client.auth({ login_id: newLoginId(), ...body });
  expect(res.status).toBe(400);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const text = new TextDecoder().decode(res.bytes);
  return { field: errorResponseSchema.parse(res.json).error.field, text };
}

describe('POST /v1/auth refuses bad requests with 400', () => {
  it('an unknown factor', async () => {
    expect((await fieldOf({ username: 'alice', factor: 'carrier-pigeon', primary: 'passed' })).field).toBe('factor');
  });

  it('factor passcode without a passcode', async () => {
    expect((await fieldOf({ username: 'frank', factor: 'passcode', primary: 'passed' })).field).toBe('passcode');
  });

  it('a passcode with another factor', async () => {
    expect((await fieldOf({ username: 'frank', factor: 'push', passcode: '123456', primary: 'passed' })).field).toBe(
      'passcode',
    );
  });

  it('a malformed passcode, never echoed back', async () => {
    const { field, text } = await fieldOf({
      username: 'frank',
      factor: 'passcode',
      passcode: '12 34-56!',
      primary: 'passed',
    });
    expect(field).toBe('passcode');
    expect(text).not.toContain('12 34-56!');
  });

  it('an oversized pushinfo value', async () => {
    const { field } = await fieldOf({
      username: 'alice',
      factor: 'push',
      primary: 'passed',
      pushinfo: { from: 'x'.repeat(257) },
    });
    expect(field).toBe('pushinfo.from');
  });

  it('a request without login_id (a relay older than the edge): refused, naming the field', async () => {
    const res = await client.auth({ username: 'alice', factor: 'push', primary: 'passed' });
    expect(res.status).toBe(400);
    expect(errorResponseSchema.parse(res.json).error).toMatchObject({ code: 'invalid_request', field: 'login_id' });
  });

  it('a login_id that is not a SHA-256 hex digest', async () => {
    expect((await fieldOf({ username: 'alice', factor: 'push', primary: 'passed', login_id: 'x' })).field).toBe(
      'login_id',
    );
  });

  it('malformed JSON', async () => {
    const res = await client.call('POST', '/v1/auth', 'not json');
    expect(res.status).toBe(400);
    expect(errorResponseSchema.parse(res.json).error.code).toBe('invalid_request');
  });
});
