import { exports } from 'cloudflare:workers';
import { REPLY } from '@duo-edge/contract/messages';
import { authResponseSchema, preauthResponseSchema } from '@duo-edge/contract/wire';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RELAY_A_KEY, RELAY_B_KEY } from '../support/keys.ts';
import { newLoginId, relayClient } from '../support/relay-signer.ts';

/**
 * Every row of the failmode table (docs/failmode.md), injected at the Duo emulator, for both stages and
 * both failmodes: site-a is `safe`, site-b is `secure`.
 */

const fetchEdge = (r: Request) => exports.default.fetch(r);
const clients = {
  safe: relayClient({ fetch: fetchEdge, baseUrl: 'https://edge.test', site: 'site-a', key: RELAY_A_KEY }),
  secure: relayClient({ fetch: fetchEdge, baseUrl: 'https://edge.test', site: 'site-b', key: RELAY_B_KEY }),
};
const emulator = inject('duoBaseUrl');

async function fault(endpoint: 'preauth' | 'auth', fault: string) {
  const res = await fetch(`${emulator}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint, fault }),
  });
  expect(res.status).toBe(200);
}

afterEach(async () => {
  await fetch(`${emulator}/_emulator/faults`, { method: 'DELETE' });
});

type Outcome = readonly ['allow' | 'deny', string];
const failOpen: Outcome = ['allow', REPLY.failSafeAllowed];
const preauthClosed: Outcome = ['deny', REPLY.failSecureDenied];
const authClosed: Outcome = ['deny', REPLY.authFailure];

// [stage, emulator fault, failure kind the edge reports, outcome on safe, outcome on secure]
const ROWS: ReadonlyArray<readonly ['preauth' | 'auth', string, string, Outcome, Outcome]> = [
  ['preauth', 'reset', 'transport', failOpen, preauthClosed],
  ['preauth', 'hang', 'timeout', failOpen, preauthClosed],
  ['preauth', '5xx', 'http5xx', failOpen, preauthClosed],
  ['preauth', 'malformed', 'malformed', failOpen, preauthClosed],
  ['preauth', '4xx', 'http4xx', preauthClosed, preauthClosed],
  ['preauth', '429', 'http4xx', preauthClosed, preauthClosed],
  ['preauth', 'not_json', 'not_json', preauthClosed, preauthClosed],
  ['auth', 'reset', 'transport', authClosed, authClosed],
  ['auth', 'hang', 'timeout', ['deny', REPLY.authTimeout], ['deny', REPLY.authTimeout]],
  ['auth', '5xx', 'http5xx', failOpen, authClosed],
  ['auth', 'malformed', 'malformed', failOpen, authClosed],
  ['auth', '4xx', 'http4xx', authClosed, authClosed],
  ['auth', 'not_json', 'not_json', authClosed, authClosed],
];

describe.each(['safe', 'secure'] as const)('failmode %s', (failmode) => {
  const client = clients[failmode];
  const ask = async (stage: 'preauth' | 'auth') => {
    if (stage === 'preauth') {
      const res = await client.preauth({ username: 'alice', primary: 'passed' });
      return { status: res.status, body: preauthResponseSchema.parse(res.json) };
    }
    const res = await client.auth({ username: 'alice', factor: 'push', primary: 'passed', login_id: newLoginId() });
    return { status: res.status, body: authResponseSchema.parse(res.json) };
  };

  it.each(ROWS)(
    '%s, Duo %s (%s)',
    async (stage, f, failure, safe, secure) => {
      await fault(stage, f);
      const { status, body } = await ask(stage);
      expect(status).toBe(200);
      const [result, message] = failmode === 'safe' ? safe : secure;
      expect(body).toEqual({ result, message, source: 'failmode-edge', failmode: { failmode, stage, failure } });
    },
    15_000,
  );

  it('Duo answering deny is never a failmode decision', async () => {
    const res = await client.preauth({ username: 'dave', primary: 'passed' });
    expect(res.json).toEqual({ result: 'deny', source: 'duo', message: 'Your account is locked out' });
  });
});

describe('without primary auth (duo_only)', () => {
  it('a safe site refuses to fail open', async () => {
    await fault('preauth', '5xx');
    const res = await clients.safe.preauth({ username: 'alice', primary: 'none' });
    expect(res.json).toMatchObject({ result: 'deny', message: REPLY.failSecureDenied, source: 'failmode-edge' });
  });

  it('nor at the auth stage', async () => {
    await fault('auth', '5xx');
    const res = await clients.safe.auth({
      username: 'alice',
      factor: 'push',
      primary: 'none',
      login_id: newLoginId(),
    });
    expect(res.json).toMatchObject({ result: 'deny', message: REPLY.authFailure, source: 'failmode-edge' });
  });
});
