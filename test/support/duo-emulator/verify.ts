import type { MiddlewareHandler } from 'hono';
import type { DuoIntegration } from '../../../src/duo/api.ts';
import { canonicalV2, type DuoParams } from '../../../src/duo/canonical.ts';
import { canonicalV5For, type HmacHash } from '../../../src/duo/sign.ts';
import { duoFail, type EmulatorContext, type EmulatorEnv } from './env.ts';
import { verifyHmacHex } from './sign-v2.ts';
import type { EmulatorState, SignatureMatch } from './state.ts';

const MAX_SKEW_MS = 300_000;

function credentials(header: string | undefined): { ikey: string; hex: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header ?? '');
  if (!m) return undefined;
  let decoded: string;
  try {
    decoded = atob(m[1]!);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { ikey: decoded.slice(0, colon), hex: decoded.slice(colon + 1) };
}

/**
 * Which signature scheme the request matches, trying each one its shape allows: v2 signs the query
 * (GET) or the form body (POST) with HMAC-SHA1 or -SHA512 (told apart by length); v5 signs the query,
 * the exact body and the x-duo headers with HMAC-SHA512. Signed host is the configured api_host,
 * never the transport Host header.
 */
async function matchSignature(c: EmulatorContext, integration: DuoIntegration, date: string, hex: string) {
  const { query, form, json, rawBody } = c.get('duo');
  const base = { date, method: c.req.method, host: integration.apiHost, path: new URL(c.req.url).pathname };
  const v2Params: DuoParams = c.req.method === 'GET' ? query : form;
  const candidates: Array<[SignatureMatch, HmacHash, () => string | Promise<string>]> = [];
  if (!json && hex.length === 40)
    candidates.push(['v2-sha1', 'SHA-1', () => canonicalV2({ ...base, params: v2Params })]);
  if (!json && hex.length === 128)
    candidates.push(['v2-sha512', 'SHA-512', () => canonicalV2({ ...base, params: v2Params })]);
  if ((json || c.req.method === 'GET') && hex.length === 128) {
    const headers = c.req.header();
    candidates.push(['v5', 'SHA-512', () => canonicalV5For({ ...base, params: query, body: rawBody, headers })]);
  }
  for (const [version, hash, canonical] of candidates) {
    if (await verifyHmacHex(hash, integration.skey, await canonical(), hex)) return version;
  }
  return undefined;
}

/** Duo's credential checks: Basic ikey:hmac, a date within 300 s, an exact signature. */
export function verifyDuoSignature(state: EmulatorState): MiddlewareHandler<EmulatorEnv> {
  return async function verifyDuoSignature(c, next) {
    const { record } = c.get('duo');
    const reject = (why: string, code: number, message: string) => {
      record.signature = `rejected: ${why}`;
      return duoFail(c, 401, code, message);
    };
    const creds = credentials(c.req.header('authorization'));
    if (!creds) return reject('no credentials', 40101, 'Missing request credentials');
    const integration = state.integrations.get(creds.ikey);
    if (!integration) return reject('unknown ikey', 40102, 'Invalid integration key in request credentials');
    // duo_hmac and duo_unix send X-Duo-Date; older clients Date. Duo's mock checks them in this order.
    const date = c.req.header('x-duo-date') ?? c.req.header('date');
    const when = date === undefined ? Number.NaN : Date.parse(date);
    if (!(Math.abs(when - state.now()) <= MAX_SKEW_MS)) {
      return reject('date', 40103, 'Invalid signature in request credentials');
    }
    const version = await matchSignature(c, integration, date!, creds.hex);
    if (!version) return reject('signature', 40103, 'Invalid signature in request credentials');
    record.signature = version;
    await next();
  };
}
