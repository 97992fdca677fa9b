import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { stringify } from 'node:querystring';
import { describe, expect, it } from 'vitest';
import { rfc2822Date, signV5 } from '../../src/duo/sign.ts';
import { createEmulator, DEMO_INTEGRATION } from '../support/duo-emulator/index.ts';

const oracle = createRequire(import.meta.url)('@duosecurity/duo_api/lib/duo_sig.js') as {
  sign(ikey: string, skey: string, method: string, host: string, path: string, params: object, date: string): string;
  signV5(
    ikey: string,
    skey: string,
    method: string,
    host: string,
    path: string,
    params: object,
    date: string,
    body: string,
  ): string;
};

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const { ikey, skey, apiHost } = DEMO_INTEGRATION;
const PREAUTH = '/auth/v2/preauth';
const BAD_SIGNATURE = { stat: 'FAIL', code: 40103, message: 'Invalid signature in request credentials' };

interface Signing {
  ikey?: string;
  skey?: string;
  host?: string;
  date?: string;
  params?: Record<string, string>;
  /** Change the sent parameters after signing. */
  tamper?: Record<string, string>;
}

// Requests built the way each official client sends them.
function v2Form({
  ikey: i = ikey,
  skey: s = skey,
  host = apiHost,
  date = rfc2822Date(NOW),
  params = { username: 'alice' },
  tamper,
}: Signing) {
  const authorization = oracle.sign(i, s, 'POST', host, PREAUTH, params, date);
  const headers = { authorization, date, 'content-type': 'application/x-www-form-urlencoded' };
  return new Request(`http://127.0.0.1${PREAUTH}`, {
    method: 'POST',
    headers,
    body: stringify({ ...params, ...tamper }),
  });
}

function v2Sha1Get({ date = rfc2822Date(NOW), params = { txid: 'nope' } }: Signing) {
  // Independent of the code under test: the v2 canonical string written out by hand.
  const canonical = [date, 'GET', apiHost, '/auth/v2/auth_status', `txid=${params.txid}`].join('\n');
  const hex = createHmac('sha1', skey).update(canonical).digest('hex');
  const authorization = `Basic ${Buffer.from(`${ikey}:${hex}`).toString('base64')}`;
  return new Request(`http://127.0.0.1/auth/v2/auth_status?txid=${params.txid}`, {
    headers: { authorization, 'x-duo-date': date },
  });
}

function v5NodeSdk({
  ikey: i = ikey,
  skey: s = skey,
  host = apiHost,
  date = rfc2822Date(NOW),
  params = { username: 'alice' },
  tamper,
}: Signing) {
  const body = JSON.stringify(params);
  const authorization = oracle.signV5(i, s, 'POST', host, PREAUTH, {}, date, body);
  const headers = { authorization, date, 'content-type': 'application/json' };
  return new Request(`http://127.0.0.1${PREAUTH}`, {
    method: 'POST',
    headers,
    body: tamper ? JSON.stringify({ ...params, ...tamper }) : body,
  });
}

async function call(req: Request) {
  const { app, state } = createEmulator({ now: () => NOW });
  const res = await app.request(req);
  return { status: res.status, body: await res.json(), record: state.requests.at(-1) };
}

describe('emulator accepts every signature Duo accepts', () => {
  it('v2 HMAC-SHA512 over a form body (official Node SDK)', async () => {
    const r = await call(v2Form({}));
    expect(r).toMatchObject({
      status: 200,
      body: { stat: 'OK', response: { result: 'auth' } },
      record: { signature: 'v2-sha512' },
    });
  });

  it('v2 HMAC-SHA1 over a query string, date in X-Duo-Date (duo_unix)', async () => {
    const r = await call(v2Sha1Get({}));
    // Signature accepted; the made-up txid is then refused as a bad parameter.
    expect(r).toMatchObject({ status: 400, body: { code: 40002 }, record: { signature: 'v2-sha1' } });
  });

  it('v5 over a JSON body with a Date header (official Node SDK)', async () => {
    const r = await call(v5NodeSdk({}));
    expect(r).toMatchObject({ status: 200, body: { response: { result: 'auth' } }, record: { signature: 'v5' } });
  });

  it('v5 with X-Duo-Date hashed as an x-duo header (duo_hmac), and X-Duo-Date wins over Date', async () => {
    const date = rfc2822Date(NOW);
    const xDuo = { 'x-duo-date': date, 'x-duo-extra': 'yes' };
    const authorization = await signV5(DEMO_INTEGRATION, {
      date,
      method: 'GET',
      host: apiHost,
      path: '/auth/v2/check',
      params: {},
      body: '',
      headers: xDuo,
    });
    const headers = { ...xDuo, authorization, date: 'Thu, 01 Jan 1970 00:00:00 -0000' };
    const r = await call(new Request('http://127.0.0.1/auth/v2/check', { headers }));
    expect(r).toMatchObject({ status: 200, body: { response: { time: NOW / 1000 } }, record: { signature: 'v5' } });
  });

  it('accepts a date 300 s off', async () => {
    expect((await call(v5NodeSdk({ date: rfc2822Date(NOW - 300_000) }))).status).toBe(200);
    expect((await call(v2Form({ date: rfc2822Date(NOW + 300_000) }))).status).toBe(200);
  });
});

describe('emulator refuses what Duo refuses', () => {
  it('a tampered parameter: 401 40103', async () => {
    for (const req of [v2Form({ tamper: { username: 'carol' } }), v5NodeSdk({ tamper: { username: 'carol' } })]) {
      expect(await call(req)).toMatchObject({
        status: 401,
        body: BAD_SIGNATURE,
        record: { signature: 'rejected: signature' },
      });
    }
  });

  it('the wrong secret key: 401 40103', async () => {
    expect(await call(v5NodeSdk({ skey: `${skey}x` }))).toMatchObject({ status: 401, body: BAD_SIGNATURE });
  });

  it('a request signed for another host (the transport Host does not count): 401 40103', async () => {
    expect(await call(v2Form({ host: 'api-other.duosecurity.com' }))).toMatchObject({
      status: 401,
      body: BAD_SIGNATURE,
    });
    expect(await call(v5NodeSdk({ host: '127.0.0.1' }))).toMatchObject({ status: 401, body: BAD_SIGNATURE });
  });

  it('a date 301 s off either way: 401 40103', async () => {
    for (const date of [rfc2822Date(NOW - 301_000), rfc2822Date(NOW + 301_000)]) {
      expect(await call(v5NodeSdk({ date }))).toMatchObject({
        status: 401,
        body: { code: 40103 },
        record: { signature: 'rejected: date' },
      });
    }
  });

  it('an unknown integration key: 401 40102', async () => {
    expect(await call(v2Form({ ikey: 'DIUNKNOWNINTEGRATION' }))).toMatchObject({
      status: 401,
      body: { stat: 'FAIL', code: 40102 },
    });
  });

  it('no credentials or no date: 401', async () => {
    const noAuth = new Request(`http://127.0.0.1/auth/v2/check`, { headers: { date: rfc2822Date(NOW) } });
    expect(await call(noAuth)).toMatchObject({ status: 401, body: { code: 40101 } });
    const req = v5NodeSdk({});
    req.headers.delete('date');
    expect(await call(req)).toMatchObject({ status: 401, body: { code: 40103 } });
  });

  it('a missing required parameter, after a valid signature: 400 40002', async () => {
    expect(await call(v5NodeSdk({ params: { ipaddr: '192.0.2.1' } }))).toMatchObject({
      status: 400,
      body: { stat: 'FAIL', code: 40002, message_detail: 'username' },
    });
  });

  it('never records a passcode', async () => {
    const r = await call(v5NodeSdk({ params: { username: 'frank', factor: 'passcode', passcode: '123456' } }));
    expect(r.record?.params.passcode).toEqual(['[redacted]']);
  });
});
