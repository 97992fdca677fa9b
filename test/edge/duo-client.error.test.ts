import { afterEach, describe, expect, inject, it } from 'vitest';
import type { DuoIntegration } from '../../src/duo/api.ts';
import { createDuoClient } from '../../src/duo/client.ts';

const baseUrl = inject('duoBaseUrl');
const DEMO: DuoIntegration = {
  ikey: 'DIDEMOINTEGRATION000',
  skey: 'demoSecretKeyDemoSecretKeyDemoSecretKey0',
  apiHost: 'api-demo.duosecurity.com',
};
const within = (ms = 5000) => ({ deadline: Date.now() + ms });
const alice = { username: 'alice' };

async function fault(endpoint: string, fault: string, delay_ms?: number) {
  const res = await fetch(`${baseUrl}/_emulator/faults`, {
    method: 'POST',
    body: JSON.stringify({ endpoint, fault, delay_ms }),
  });
  expect(res.status).toBe(200);
}
const clearFaults = () => fetch(`${baseUrl}/_emulator/faults`, { method: 'DELETE' });
const requestCount = async () =>
  ((await (await fetch(`${baseUrl}/_emulator/requests`)).json()) as { requests: unknown[] }).requests.length;

afterEach(async () => {
  await clearFaults();
  await fetch(`${baseUrl}/_emulator/requests`, { method: 'DELETE' });
});

describe('Duo failures come back as data, injected through the emulator', () => {
  const duo = createDuoClient(DEMO, { baseUrl });

  it('5xx -> http5xx with Duo code', async () => {
    await fault('preauth', '5xx');
    expect(await duo.preauth(alice, within())).toEqual({
      ok: false,
      error: { kind: 'http5xx', status: 500, code: 50000, message: 'Internal server error' },
    });
  });

  it('4xx -> http4xx with Duo code and message', async () => {
    await fault('auth', '4xx');
    expect(await duo.auth({ ...alice, factor: 'push' }, within())).toEqual({
      ok: false,
      error: { kind: 'http4xx', status: 400, code: 40002, message: 'Invalid request parameters' },
    });
  });

  it('bad keys -> http4xx 401 40103', async () => {
    const wrong = createDuoClient({ ...DEMO, skey: 'not-the-secret' }, { baseUrl });
    expect(await wrong.check(within())).toEqual({
      ok: false,
      error: { kind: 'http4xx', status: 401, code: 40103, message: 'Invalid signature in request credentials' },
    });
  });

  it('malformed: stat OK without the required fields', async () => {
    await fault('preauth', 'malformed');
    await fault('check', 'malformed');
    expect(await duo.preauth(alice, within())).toMatchObject({
      ok: false,
      error: { kind: 'malformed', detail: expect.stringContaining('result') },
    });
    expect(await duo.check(within())).toMatchObject({
      ok: false,
      error: { kind: 'malformed', detail: expect.stringContaining('time') },
    });
  });

  it('not_json: HTTP 200 with an HTML body', async () => {
    await fault('ping', 'not_json');
    expect(await duo.ping(within())).toEqual({ ok: false, error: { kind: 'not_json', status: 200 } });
  });

  it('hang -> transport timeout at the deadline', async () => {
    await fault('preauth', 'hang');
    expect(await duo.preauth(alice, within(400))).toEqual({
      ok: false,
      error: { kind: 'transport', reason: 'timeout', detail: 'deadline reached' },
    });
  });

  it('extra delay past the deadline -> transport timeout', async () => {
    await fault('check', 'ok', 3000);
    expect(await duo.check(within(300))).toMatchObject({ ok: false, error: { kind: 'transport', reason: 'timeout' } });
  });

  it('reset -> transport network', async () => {
    await fault('auth', 'reset');
    expect(await duo.auth({ ...alice, factor: 'push' }, within())).toMatchObject({
      ok: false,
      error: { kind: 'transport', reason: 'network' },
    });
  });

  it('caller abort -> transport timeout', async () => {
    await fault('preauth', 'hang');
    const signal = AbortSignal.timeout(200);
    expect(await duo.preauth(alice, { ...within(), signal })).toEqual({
      ok: false,
      error: { kind: 'transport', reason: 'timeout', detail: 'aborted by caller' },
    });
  });

  it('authAsync: an unanswered push ends at the deadline as a timeout', async () => {
    // grace's push stays pending for 2 s in the shared emulator.
    const r = await duo.authAsync({ username: 'grace', factor: 'push' }, { ...within(700), pollIntervalMs: 100 });
    expect(r).toMatchObject({ ok: false, error: { kind: 'transport', reason: 'timeout' } });
  });

  it('authAsync: auth_status failing -> that failure', async () => {
    await fault('auth_status', '5xx');
    const r = await duo.authAsync({ ...alice, factor: 'push' }, { ...within(), pollIntervalMs: 100 });
    expect(r).toMatchObject({ ok: false, error: { kind: 'http5xx', status: 500 } });
  });
});

describe('429: exponential backoff with jitter, never past the deadline', () => {
  it('retries after 1 s + jitter, then 2 s + jitter, until Duo answers', async () => {
    await fault('preauth', '429');
    const sleeps: number[] = [];
    const duo = createDuoClient(DEMO, {
      baseUrl,
      random: () => 0.5,
      // Instead of waiting, lift the fault on the second backoff.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) await clearFaults();
      },
    });
    expect(await duo.preauth(alice, within(10_000))).toMatchObject({ ok: true, value: { result: 'auth' } });
    expect(sleeps).toEqual([1500, 2500]);
    expect(await requestCount()).toBe(3);
  });

  it('answers the 429 as http4xx when the next wait would pass the deadline', async () => {
    await fault('preauth', '429');
    const sleeps: number[] = [];
    // A fake clock that the backoff sleeps advance.
    let clock = Date.now();
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      clock += ms;
    };
    const duo = createDuoClient(DEMO, { baseUrl, random: () => 0.5, now: () => clock, sleep });
    expect(await duo.preauth(alice, { deadline: clock + 4000 })).toEqual({
      ok: false,
      error: { kind: 'http4xx', status: 429, code: 42901, message: 'Too Many Requests' },
    });
    expect(sleeps).toEqual([1500]);
    expect(await requestCount()).toBe(2);
  });

  it('a retry cut off by the deadline still ends as the 429 (a refusal), never as a timeout', async () => {
    let calls = 0;
    let clock = Date.now();
    const duo = createDuoClient(DEMO, {
      random: () => 0.5,
      now: () => clock,
      // The backoff fits before the deadline; the retry then hangs until the deadline aborts it.
      sleep: async (ms) => {
        clock += ms;
      },
      fetch: (_url, init) => {
        calls++;
        if (calls === 1) {
          const body = '{"stat":"FAIL","code":42901,"message":"Too Many Requests"}';
          return Promise.resolve(new Response(body, { status: 429 }));
        }
        return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
      },
    });
    expect(await duo.preauth(alice, { deadline: clock + 1600 })).toEqual({
      ok: false,
      error: { kind: 'http4xx', status: 429, code: 42901, message: 'Too Many Requests' },
    });
    expect(calls).toBe(2);
  });
});

describe('Duo envelope edge cases (non-JSON, missing stat, FAIL with a code), from canned responses', () => {
  const answer = (status: number, body: string) =>
    createDuoClient(DEMO, {
      fetch: async () => new Response(body, { status, headers: { 'content-type': 'application/json' } }),
    });

  it.each([
    ['200 JSON without stat', 200, '{"response":{"time":1}}', { kind: 'not_json', status: 200 }],
    ['200 JSON that is not an object', 200, '"OK"', { kind: 'not_json', status: 200 }],
    [
      '200 stat neither OK nor FAIL',
      200,
      '{"stat":"BAD_STATUS","response":{"time":1}}',
      { kind: 'malformed', detail: 'stat neither OK nor FAIL' },
    ],
    ['200 stat OK without response', 200, '{"stat":"OK"}', { kind: 'malformed', detail: 'stat OK without response' }],
    [
      '200 stat FAIL',
      200,
      '{"stat":"FAIL","code":40002,"message":"Invalid request parameters"}',
      { kind: 'http4xx', status: 200, code: 40002, message: 'Invalid request parameters' },
    ],
    ['503 not JSON', 503, '<html>down</html>', { kind: 'http5xx', status: 503 }],
    [
      '401 with an empty code',
      401,
      '{"stat":"FAIL","code":"","message":"x"}',
      { kind: 'http4xx', status: 401, message: 'x' },
    ],
  ])('%s', async (_name, status, body, error) => {
    expect(await answer(status, body).check(within())).toEqual({ ok: false, error });
  });

  it('sync auth answering "waiting" is malformed', async () => {
    const r = await answer(
      200,
      '{"stat":"OK","response":{"result":"waiting","status":"pushed","status_msg":"x"}}',
    ).auth({ username: 'alice', factor: 'push' }, within());
    expect(r).toMatchObject({ ok: false, error: { kind: 'malformed' } });
  });

  it('a flat text_prompt answer is flattened into prompt + factors', async () => {
    const response = {
      result: 'auth',
      status_msg: 'Account is active',
      devices: [{ device: 'D1', type: 'phone', capabilities: ['push'] }],
      prompt: { text: 'Choose:', factors: { default: 'push1', '1': 'push1' } },
    };
    const r = await answer(200, JSON.stringify({ stat: 'OK', response })).preauth({ username: 'a' }, within());
    expect(r).toEqual({
      ok: true,
      value: { ...response, prompt: 'Choose:', factors: { default: 'push1', '1': 'push1' } },
    });
  });
});
