import { exports } from 'cloudflare:workers';
import { REPLY } from '@duo-edge/contract/messages';
import { authResponseSchema } from '@duo-edge/contract/wire';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RELAY_A_KEY, RELAY_B_KEY } from '../support/keys.ts';
import { newLoginId, relayClient } from '../support/relay-signer.ts';

const fetchEdge = (r: Request) => exports.default.fetch(r);
// site-a polls async auth; site-b blocks on one auth call (site option push_async).
const sites = {
  'site-a (async push)': relayClient({
    fetch: fetchEdge,
    baseUrl: 'https://edge.test',
    site: 'site-a',
    key: RELAY_A_KEY,
  }),
  'site-b (blocking push)': relayClient({
    fetch: fetchEdge,
    baseUrl: 'https://edge.test',
    site: 'site-b',
    key: RELAY_B_KEY,
  }),
};
const emulator = inject('duoBaseUrl');

type Requests = { requests: Array<{ endpoint: string; params: Record<string, string[]> }> };
const duoRequests = async () => ((await (await fetch(`${emulator}/_emulator/requests`)).json()) as Requests).requests;

afterEach(async () => {
  await fetch(`${emulator}/_emulator/requests`, { method: 'DELETE' });
});

describe.each(Object.entries(sites))('POST /v1/auth on %s', (_, client) => {
  const auth = async (body: Record<string, unknown>) => {
    const res = await client.auth({ primary: 'passed', login_id: newLoginId(), ...body });
    expect(res.status).toBe(200);
    return authResponseSchema.parse(res.json);
  };

  it('push approved: allow with Duo status message', async () => {
    expect(await auth({ username: 'alice', factor: 'push' })).toEqual({
      result: 'allow',
      source: 'duo',
      status: 'allow',
      message: 'Success. Logging you in...',
    });
  });

  it('push denied: deny with Duo status message', async () => {
    expect(await auth({ username: 'bob', factor: 'auto' })).toEqual({
      result: 'deny',
      source: 'duo',
      status: 'deny',
      message: 'Login request denied.',
    });
  });

  it('push timed out at Duo: deny with Duo timeout status', async () => {
    expect(await auth({ username: 'grace', factor: 'push' })).toMatchObject({
      result: 'deny',
      source: 'duo',
      status: 'timeout',
    });
  });

  it('valid passcode: allow; the passcode reaches Duo only as a passcode', async () => {
    expect(await auth({ username: 'frank', factor: 'passcode', passcode: '123456' })).toMatchObject({
      result: 'allow',
      source: 'duo',
    });
    const call = (await duoRequests()).find((r) => r.endpoint === 'auth');
    expect(call?.params).toMatchObject({ factor: ['passcode'], passcode: ['[redacted]'] });
  });

  it('wrong passcode: deny with Duo message', async () => {
    expect(await auth({ username: 'frank', factor: 'passcode', passcode: '654321' })).toEqual({
      result: 'deny',
      source: 'duo',
      status: 'deny',
      message: 'Incorrect passcode. Please try again.',
    });
  });

  it('sms: Duo sends passcodes and denies this attempt', async () => {
    expect(await auth({ username: 'alice', factor: 'sms' })).toMatchObject({ result: 'deny', status: 'sent' });
  });

  it('numbered factor name (concat ",push1") resolves to the Duo device id', async () => {
    expect(await auth({ username: 'alice', factor: 'auto', device: 'push1' })).toMatchObject({ result: 'allow' });
    const call = (await duoRequests()).find((r) => r.endpoint === 'auth');
    expect(call?.params).toMatchObject({ factor: ['push'], device: ['DPALICE0000000000001'] });
  });

  it('numbered factor with no such device: deny, no usable factor', async () => {
    expect(await auth({ username: 'alice', factor: 'auto', device: 'push2' })).toEqual({
      result: 'deny',
      source: 'policy',
      message: REPLY.noFactors,
    });
  });
});
