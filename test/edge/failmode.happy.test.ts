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

// [emulator fault, failure kind the edge reports, outcome on safe, outcome on secure]
const PREAUTH: ReadonlyArray<readonly [string, string, Outcome, Outcome]> = [
  ['reset', 'transport', failOpen, preauthClosed],
  ['hang', 'timeout', failOpen, preauthClosed],
  ['5xx', 'http5xx', failOpen, preauthClosed],
  ['malformed', 'malformed', failOpen, preauthClosed],
  ['4xx', 'http4xx', preauthClosed, preauthClosed],
  ['429', 'http4xx', preauthClosed, preauthClosed],
  ['not_json', 'not_json', preauthClosed, preauthClosed],
];

const AUTH: ReadonlyArray<readonly [string, string, Outcome, Outcome]> = [
  ['reset', 'transport', authClosed, authClosed],
  ['hang', 'timeout', ['deny', REPLY.authTimeout], ['deny', REPLY.authTimeout]],
  ['5xx', 'http5xx', failOpen, authClosed],
  ['malformed', 'malformed', failOpen, authClosed],
  ['4xx', 'http4xx', authClosed, authClosed],
  ['not_json', 'not_json', authClosed, authClosed],
];

describe.each(['safe', 'secure'] as const)('failmode %s', (failmode) => {
  const client = clients[failmode];

  it.each(PREAUTH)(
    'preauth, Duo %s (%s)',
    async (f, failure, safe, secure) => {
      await fault('preauth', f);
      const res = await client.preauth({ username: 'alice', primary: 'passed' });
      expect(res.status).toBe(200);
      const [result, message] = failmode === 'safe' ? safe : secure;
      expect(preauthResponseSchema.parse(res.json)).toEqual({
        result,
        message,
        source: 'failmode-edge',
        failmode: { failmode, stage: 'preauth', failure },
      });
    },
    15_000,
  );

  it.each(AUTH)(
    'auth, Duo %s (%s)',
    async (f, failure, safe, secure) => {
      await fault('auth', f);
      const res = await client.auth({ username: 'alice', factor: 'push', primary: 'passed', login_id: newLoginId() });
      expect(res.status).toBe(200);
      const [result, message] = failmode === 'safe' ? safe : secure;
      expect(authResponseSchema.parse(res.json)).toEqual({
        result,
        message,
        source: 'failmode-edge',
        failmode: { failmode, stage: 'auth', failure },
      });
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
