import { env } from 'cloudflare:workers';
import type { DecisionRecord } from '@duo-edge/contract/audit';
import { REPLY } from '@duo-edge/contract/messages';
import { afterEach, describe, expect, it } from 'vitest';
import type { DuoClient } from '../../src/duo/api.ts';
import { createEdge } from '../../src/edge/create.ts';
import { EXEMPT_USER } from '../support/edge-bindings.ts';
import { gateDuo } from '../support/edge-worker.ts';
import { RELAY_A_KEY } from '../support/keys.ts';
import { newLoginId, relayClient } from '../support/relay-signer.ts';

/**
 * Every final decision reaches the recorder hook once, shaped for the audit log. The same Duo
 * answers the routes and the user gate object (which makes the auth call).
 */
function setup(duo: Partial<DuoClient>) {
  const records: DecisionRecord[] = [];
  gateDuo.client = duo as DuoClient;
  const app = createEdge({
    createDuo: () => duo as DuoClient,
    recorder: () => ({ record: async (r) => void records.push(r) }),
  }).app;
  const client = relayClient({
    fetch: async (req) => app.request(req, undefined, env),
    baseUrl: 'https://edge.test',
    site: 'site-a',
    key: RELAY_A_KEY,
  });
  return { records, client };
}

const nas = { ip: '192.0.2.10', identifier: 'vpn-1' };

afterEach(() => {
  gateDuo.client = null;
});

describe('decision recorder hook', () => {
  it('records an exempt preauth allow', async () => {
    const { records, client } = setup({});
    await client.preauth({ username: EXEMPT_USER, primary: 'passed', nas, client_ip: '198.51.100.1' });
    expect(records).toEqual([
      expect.objectContaining({
        site: 'site-a',
        relay: RELAY_A_KEY.publicKey,
        username: EXEMPT_USER,
        nas_ip: '192.0.2.10',
        nas_identifier: 'vpn-1',
        client_ip: '198.51.100.1',
        stage: 'preauth',
        factor: null,
        result: 'allow',
        source: 'exempt',
        reason: REPLY.exempt,
      }),
    ]);
    expect(records[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not record a preauth that continues to auth, and records the auth', async () => {
    const { records, client } = setup({
      preauth: async () => ({ ok: true, value: { result: 'auth', status_msg: 'Account is active', devices: [] } }),
      authAsync: async () => ({
        ok: true,
        value: { result: 'deny', status: 'deny', status_msg: 'Login request denied.' },
      }),
    });
    await client.preauth({ username: 'bob', primary: 'passed' });
    expect(records).toEqual([]);
    await client.auth({ username: 'bob', factor: 'push', primary: 'passed', login_id: newLoginId() });
    expect(records).toEqual([
      expect.objectContaining({
        stage: 'auth',
        factor: 'push',
        result: 'deny',
        source: 'duo',
        reason: 'Login request denied.',
      }),
    ]);
  });

  it('records enrolment as a deny, and failmode decisions with their failure', async () => {
    const { records, client } = setup({
      preauth: async () => ({ ok: true, value: { result: 'enroll', status_msg: 'Enroll' } }),
      auth: async () => ({ ok: false, error: { kind: 'http5xx', status: 503 } }),
    });
    await client.preauth({ username: 'erin', primary: 'passed' });
    await client.auth({
      username: 'erin',
      factor: 'passcode',
      passcode: '123456',
      primary: 'passed',
      login_id: newLoginId(),
    });
    expect(records.map((r) => [r.stage, r.result, r.source, r.reason])).toEqual([
      ['preauth', 'deny', 'duo', 'Enroll'],
      ['auth', 'allow', 'failmode-edge', `${REPLY.failSafeAllowed} (http5xx)`],
    ]);
  });

  it('a failing recorder does not change the decision', async () => {
    const app = createEdge({ recorder: () => ({ record: async () => Promise.reject(new Error('D1 down')) }) }).app;
    const client = relayClient({
      fetch: async (req) => app.request(req, undefined, env),
      baseUrl: 'https://edge.test',
      site: 'site-a',
      key: RELAY_A_KEY,
    });
    const res = await client.preauth({ username: EXEMPT_USER, primary: 'passed' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ result: 'allow', source: 'exempt' });
  });
});
