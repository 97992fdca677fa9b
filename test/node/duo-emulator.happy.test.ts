import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDuoClient } from '../../src/duo/client.ts';
import { rfc2822Date, signV5 } from '../../src/duo/sign.ts';
import {
  createEmulator,
  DEMO_INTEGRATION,
  type RunningEmulator,
  startEmulator,
} from '../support/duo-emulator/index.ts';

const within = () => ({ deadline: Date.now() + 5000 });

describe('demo users, with pushes answered by the emulator', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ pushDelayMs: 10, pushTimeoutMs: 30 });
  });
  afterAll(() => emu.close());

  it.each([
    ['alice', 'auth'],
    ['bob', 'auth'],
    ['carol', 'allow'],
    ['dave', 'deny'],
    ['erin', 'enroll'],
    ['frank', 'auth'],
    ['grace', 'auth'],
    ['nobody', 'enroll'],
  ])('preauth %s -> %s', async (username, result) => {
    const duo = createDuoClient(DEMO_INTEGRATION, { baseUrl: emu.url });
    expect(await duo.preauth({ username }, within())).toMatchObject({ ok: true, value: { result } });
  });

  it.each([
    ['alice', 'push', undefined, 'allow', 'allow'],
    ['alice', 'phone', undefined, 'allow', 'allow'],
    ['alice', 'passcode', '123456', 'allow', 'allow'],
    ['alice', 'sms', undefined, 'deny', 'sent'],
    ['bob', 'auto', undefined, 'deny', 'deny'],
    ['bob', 'passcode', '123456', 'deny', 'deny'],
    ['carol', 'auto', undefined, 'allow', 'bypass'],
    ['dave', 'push', undefined, 'deny', 'locked_out'],
    ['erin', 'push', undefined, 'deny', 'deny'],
    ['frank', 'passcode', '123456', 'allow', 'allow'],
    ['grace', 'push', undefined, 'deny', 'timeout'],
  ] as const)('auth %s factor %s -> %s (%s)', async (username, factor, passcode, result, status) => {
    const duo = createDuoClient(DEMO_INTEGRATION, { baseUrl: emu.url });
    expect(await duo.auth({ username, factor, passcode }, within())).toMatchObject({
      ok: true,
      value: { result, status },
    });
  });

  it('frank has no device that can take a push: 400 40002', async () => {
    const duo = createDuoClient(DEMO_INTEGRATION, { baseUrl: emu.url });
    expect(await duo.auth({ username: 'frank', factor: 'push' }, within())).toMatchObject({
      ok: false,
      error: { kind: 'http4xx', status: 400, code: 40002 },
    });
  });
});

describe('pushes answered by hand (autoAnswerPushes: false)', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ autoAnswerPushes: false });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.state.clearRequests());

  async function pendingTxid(): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const [tx] = emu.state.transactions.pending();
      if (tx) return tx.txid;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no pending push');
  }

  it('a sync auth waits for approve(txid); the push is counted', async () => {
    const duo = createDuoClient(DEMO_INTEGRATION, { baseUrl: emu.url });
    const auth = duo.auth({ username: 'bob', factor: 'push' }, within());
    const txid = await pendingTxid();
    expect(emu.state.transactions.get(txid)?.state).toBe('pending');
    expect(emu.state.approve(txid)).toBe(true);
    expect(await auth).toMatchObject({ ok: true, value: { result: 'allow' } });
    expect(emu.state.transactions.get(txid)?.state).toBe('approved');
    expect(emu.state.deny(txid)).toBe(false);
    expect(Object.fromEntries(emu.state.pushes)).toEqual({ bob: 1 });
  });

  it('async auth: auth_status says waiting until POST /_emulator/pushes/:txid/deny', async () => {
    const duo = createDuoClient(DEMO_INTEGRATION, { baseUrl: emu.url });
    const auth = duo.authAsync({ username: 'alice', factor: 'push' }, { ...within(), pollIntervalMs: 20 });
    const txid = await pendingTxid();
    const listed = (await (await fetch(`${emu.url}/_emulator/pushes`)).json()) as Array<{
      txid: string;
      username: string;
    }>;
    expect(listed).toEqual([expect.objectContaining({ txid, username: 'alice', factor: 'push' })]);
    expect((await fetch(`${emu.url}/_emulator/pushes/${txid}/deny`, { method: 'POST' })).status).toBe(204);
    expect(await auth).toMatchObject({ ok: true, value: { result: 'deny', status: 'deny' } });
    expect((await fetch(`${emu.url}/_emulator/pushes/${txid}/approve`, { method: 'POST' })).status).toBe(404);
  });
});

describe('control API', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(() => emu.close());

  const post = (body: unknown) => fetch(`${emu.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify(body) });

  it('takes faults per endpoint until DELETE /_emulator/faults', async () => {
    expect((await post({ endpoint: 'ping', fault: '5xx' })).status).toBe(200);
    expect((await post({ endpoint: 'check', fault: 'ok', delay_ms: 5 })).status).toBe(200);
    expect(await (await fetch(`${emu.url}/_emulator/faults`)).json()).toHaveLength(2);
    expect((await fetch(`${emu.url}/auth/v2/ping`)).status).toBe(500);
    expect((await fetch(`${emu.url}/auth/v2/ping`)).status).toBe(500);
    expect((await fetch(`${emu.url}/_emulator/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${emu.url}/auth/v2/ping`)).status).toBe(200);
  });

  it.each([
    { endpoint: 'enroll', fault: '5xx' },
    { endpoint: 'ping', fault: 'explode' },
    { endpoint: 'ping', fault: 'ok', delay_ms: -1 },
    { endpoint: 'ping', fault: 'ok', extra: true },
  ])('refuses an invalid fault %j', async (body) => {
    expect((await post(body)).status).toBe(400);
  });

  it('records requests and clears them', async () => {
    await fetch(`${emu.url}/_emulator/requests`, { method: 'DELETE' });
    await fetch(`${emu.url}/auth/v2/check`);
    const log = (await (await fetch(`${emu.url}/_emulator/requests`)).json()) as { requests: unknown[] };
    expect(log.requests).toEqual([
      { endpoint: 'check', method: 'GET', params: {}, signature: 'rejected: no credentials', time: expect.any(Number) },
    ]);
    await fetch(`${emu.url}/_emulator/requests`, { method: 'DELETE' });
    expect(await (await fetch(`${emu.url}/_emulator/requests`)).json()).toEqual({ requests: [], pushes: {} });
  });

  it('answers unknown paths with Duo 404 40401', async () => {
    expect(await (await fetch(`${emu.url}/auth/v2/nope`)).json()).toMatchObject({ stat: 'FAIL', code: 40401 });
  });
});

it('runs from the command line', async () => {
  const child = spawn(process.execPath, ['test/support/duo-emulator/main.ts', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(child.stdout, 'data', { signal: AbortSignal.timeout(4000) })) as [Buffer];
    const url = /listening on (\S+)/.exec(line.toString())?.[1];
    expect((await fetch(`${url}/auth/v2/ping`)).status).toBe(200);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('preauth answers shaped like real Duo', () => {
  async function preauth(params: Record<string, string>) {
    const { app } = createEmulator();
    const date = rfc2822Date(Date.now());
    const body = JSON.stringify(params);
    const path = '/auth/v2/preauth';
    const authorization = await signV5(DEMO_INTEGRATION, {
      date,
      method: 'POST',
      host: DEMO_INTEGRATION.apiHost,
      path,
      params: {},
      body,
      headers: {},
    });
    const res = await app.request(path, {
      method: 'POST',
      headers: { authorization, date, 'content-type': 'application/json' },
      body,
    });
    return ((await res.json()) as { response: Record<string, unknown> }).response;
  }

  it('devices and capabilities only: no prompt and no factors map unless text_prompt=1 asks', async () => {
    const plain = await preauth({ username: 'alice' });
    expect(plain).toMatchObject({ result: 'auth', devices: [{ capabilities: expect.arrayContaining(['push']) }] });
    expect(Object.keys(plain).sort()).toEqual(['devices', 'result', 'status_msg']);
  });

  it('text_prompt=1: the prompt nested as {text, factors}, as duo_unix reads it', async () => {
    const asked = await preauth({ username: 'alice', text_prompt: '1' });
    expect(asked.prompt).toEqual({
      text: expect.stringMatching(/ 1\. Duo Push to XXX-XXX-0001\n.*\n\nPasscode or option \(1-3\): $/s),
      factors: { default: 'push1', '1': 'push1', '2': 'phone1', '3': 'sms1' },
    });
    expect(asked).not.toHaveProperty('factors');
  });
});
