import { exports } from 'cloudflare:workers';
import { REPLY } from '@duo-edge/contract/messages';
import { HEADER } from '@duo-edge/contract/signing';
import { preauthResponseSchema } from '@duo-edge/contract/wire';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { EXEMPT_USER } from '../support/edge-bindings.ts';
import { RELAY_A_KEY, RELAY_B_KEY } from '../support/keys.ts';
import { relayClient } from '../support/relay-signer.ts';

const fetchEdge = (r: Request) => exports.default.fetch(r);
const siteA = relayClient({ fetch: fetchEdge, baseUrl: 'https://edge.test', site: 'site-a', key: RELAY_A_KEY });
const siteB = relayClient({ fetch: fetchEdge, baseUrl: 'https://edge.test', site: 'site-b', key: RELAY_B_KEY });
const emulator = inject('duoBaseUrl');

const preauth = async (username: string, client = siteA) => {
  const res = await client.preauth({
    username,
    primary: 'passed',
    client_ip: '198.51.100.7',
    nas: { ip: '192.0.2.1' },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get(HEADER.decisionSignature)).toBeTruthy();
  return preauthResponseSchema.parse(res.json);
};

afterEach(async () => {
  await fetch(`${emulator}/_emulator/requests`, { method: 'DELETE' });
});

describe('POST /v1/preauth answers with Duo decision', () => {
  it('auth: enrolled user gets devices with capabilities, and no prompt (Duo sends none unasked)', async () => {
    const body = await preauth('alice');
    expect(body).toMatchObject({ result: 'auth', source: 'duo', message: 'Account is active' });
    if (body.result !== 'auth') throw new Error('unreachable');
    expect(body.devices).toEqual([
      expect.objectContaining({
        device: 'DPALICE0000000000001',
        type: 'phone',
        capabilities: expect.arrayContaining(['push']),
      }),
    ]);
    expect(body.factors).toEqual({});
    expect(body.prompt).toBeUndefined();
  });

  it('allow: bypass user', async () => {
    expect(await preauth('carol')).toEqual({ result: 'allow', source: 'duo', message: 'Allowing user in bypass mode' });
  });

  it('deny: locked-out user, on a secure site too', async () => {
    const deny = { result: 'deny', source: 'duo', message: 'Your account is locked out' };
    expect(await preauth('dave')).toEqual(deny);
    expect(await preauth('dave', siteB)).toEqual(deny);
  });

  it('enroll: not-enrolled user gets the enrollment text and portal', async () => {
    const body = await preauth('erin');
    expect(body).toMatchObject({
      result: 'enroll',
      source: 'duo',
      message: 'Enroll an authentication device to proceed',
    });
    expect(body).toHaveProperty('enroll_portal_url', expect.stringContaining('https://'));
  });

  it('passes the client IP to Duo as ipaddr', async () => {
    await preauth('carol');
    const { requests } = (await (await fetch(`${emulator}/_emulator/requests`)).json()) as {
      requests: Array<{ endpoint: string; params: Record<string, string[]> }>;
    };
    const call = requests.find((r) => r.endpoint === 'preauth');
    expect(call?.params).toMatchObject({ username: ['carol'], ipaddr: ['198.51.100.7'] });
  });

  it('exempt user: allowed with the exemption message, without calling Duo', async () => {
    expect(await preauth(EXEMPT_USER)).toEqual({ result: 'allow', source: 'exempt', message: REPLY.exempt });
    const { requests } = (await (await fetch(`${emulator}/_emulator/requests`)).json()) as { requests: unknown[] };
    expect(requests).toEqual([]);
  });

  it('an exemption never stands in for a credential: without a passed primary the user goes to Duo', async () => {
    const res = await siteA.preauth({ username: EXEMPT_USER, primary: 'none', nas: { ip: '192.0.2.1' } });
    expect(res.status).toBe(200);
    const body = preauthResponseSchema.parse(res.json);
    expect(body).toMatchObject({ source: 'duo' });
    const { requests } = (await (await fetch(`${emulator}/_emulator/requests`)).json()) as {
      requests: Array<{ endpoint: string; params: Record<string, string[]> }>;
    };
    expect(requests.filter((r) => r.endpoint === 'preauth').map((r) => r.params.username)).toEqual([[EXEMPT_USER]]);
  });

  it('exemption is per site', async () => {
    const body = await preauth(EXEMPT_USER, siteB);
    expect(body).toMatchObject({ result: 'enroll', source: 'duo' });
  });
});
