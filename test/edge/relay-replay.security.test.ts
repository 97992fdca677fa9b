import { exports } from 'cloudflare:workers';
import { HEADER } from '@duo-edge/contract/signing';
import { errorResponseSchema } from '@duo-edge/contract/wire';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RELAY_A_KEY } from '../support/keys.ts';
import { newLoginId, type RelayRequestInput, signRelayRequest } from '../support/relay-signer.ts';

const BASE = 'https://edge.test';
const emulator = inject('duoBaseUrl');

type Requests = { requests: Array<{ endpoint: string }>; pushes: Record<string, number> };
const duoLog = async () => (await (await fetch(`${emulator}/_emulator/requests`)).json()) as Requests;

afterEach(async () => {
  await fetch(`${emulator}/_emulator/requests`, { method: 'DELETE' });
});

/** Signs once; each call to the result sends those exact bytes again, as a captured request. */
async function captured(input: RelayRequestInput) {
  const s = await signRelayRequest(input);
  return async () => {
    const res = await exports.default.fetch(
      new Request(`${BASE}${input.path}`, {
        method: input.method,
        headers: s.headers,
        ...(s.body ? { body: s.body } : {}),
      }),
    );
    return { status: res.status, json: (await res.json()) as unknown };
  };
}

const asSiteA = (path: string, method: 'GET' | 'POST', body?: unknown): RelayRequestInput => ({
  site: 'site-a',
  key: RELAY_A_KEY,
  method,
  path,
  ...(body !== undefined ? { body } : {}),
});

describe('a replayed signed request is refused with 409 replayed', () => {
  it('/v1/auth: the replay sends no second push', async () => {
    const send = await captured(
      asSiteA('/v1/auth', 'POST', { username: 'alice', factor: 'push', primary: 'passed', login_id: newLoginId() }),
    );
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ result: 'allow', source: 'duo' });
    const before = await duoLog();
    const again = await send();
    expect(again.status).toBe(409);
    expect(errorResponseSchema.parse(again.json).error).toEqual({ code: 'replayed', message: 'request already seen' });
    const after = await duoLog();
    expect(before.pushes.alice).toBe(1);
    expect(after.pushes.alice).toBe(1);
    const auths = (log: Requests) => log.requests.filter((r) => r.endpoint === 'auth').length;
    expect(auths(after)).toBe(auths(before));
  });

  it.each([
    ['/v1/preauth', 'POST', { username: 'carol', primary: 'passed' }],
    ['/v1/site', 'GET', undefined],
    ['/v1/heartbeat', 'POST', { version: '0.1.0', uptime_s: 1, breaker_state: 'closed' }],
    [
      '/v1/audit',
      'POST',
      {
        records: [
          {
            id: crypto.randomUUID(),
            time: Date.now(),
            username: 'u',
            stage: 'preauth',
            result: 'deny',
            reason: 'x',
            source: 'failmode-relay',
          },
        ],
      },
    ],
  ] as const)('%s', async (path, method, body) => {
    const send = await captured(asSiteA(path, method, body));
    const first = await send();
    expect(first.status).toBe(200);
    const again = await send();
    expect(again.status).toBe(409);
    expect(errorResponseSchema.parse(again.json).error.code).toBe('replayed');
  });
});

describe('oversized relay-auth headers are refused before any decoding', () => {
  it.each([HEADER.signature, HEADER.key, HEADER.nonce, HEADER.site, HEADER.timestamp])(
    'a 32 KB %s: 400 naming the header',
    async (header) => {
      const s = await signRelayRequest(asSiteA('/v1/preauth', 'POST', { username: 'carol', primary: 'passed' }));
      // Padding characters: the worst case for a trailing-padding pattern.
      const huge = `${'='.repeat(32 * 1024 - 1)}x`;
      const res = await exports.default.fetch(
        new Request(`${BASE}/v1/preauth`, { method: 'POST', headers: { ...s.headers, [header]: huge }, body: s.body }),
      );
      expect(res.status).toBe(400);
      expect(errorResponseSchema.parse(await res.json()).error).toMatchObject({
        code: 'invalid_request',
        field: header,
      });
    },
  );
});
