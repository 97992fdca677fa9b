import { err, ok } from '@duo-edge/contract/result';
import type { z } from 'zod';
import type { AuthParams, CallOptions, DuoClient, DuoIntegration } from './api.ts';
import { canonParams, type DuoParams } from './canonical.ts';
import {
  asyncAuthResponse,
  authResponse,
  authStatusResponse,
  failBody,
  preauthResponse,
  timeResponse,
} from './responses.ts';
import type { DuoError, DuoResult } from './result.ts';
import { rfc2822Date, signV5 } from './sign.ts';

export interface DuoClientOptions {
  /** Transport target (the emulator in tests); the signed host is always integration.apiHost. */
  baseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

// Duo's official clients: 1 s doubling plus 0-1 s jitter, giving up once the wait passes 32 s.
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 32_000;
const DEFAULT_POLL_MS = 1000;

type Method = 'GET' | 'POST';

export function createDuoClient(integration: DuoIntegration, options: DuoClientOptions = {}): DuoClient {
  const origin = (options.baseUrl ?? `https://${integration.apiHost}`).replace(/\/+$/, '');
  const host = integration.apiHost.toLowerCase();
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  /** Duo time minus local time, learned from ping. */
  let offsetMs = 0;

  // v5 as the official duo_hmac signer sends it: x-duo-date (also hashed as an x-duo header),
  // GET params in the query, POST params as the exact JSON body with an empty params line.
  async function send(method: Method, path: string, params: DuoParams, signed: boolean, signal: AbortSignal) {
    const query = method === 'GET' ? canonParams(params) : '';
    const body = method === 'POST' ? JSON.stringify(params) : '';
    const headers: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json' } : {};
    if (signed) {
      const date = rfc2822Date(now() + offsetMs);
      const xDuo = { 'x-duo-date': date };
      const signedParams = method === 'GET' ? params : {};
      headers.authorization = await signV5(integration, {
        date,
        method,
        host,
        path,
        params: signedParams,
        body,
        headers: xDuo,
      });
      Object.assign(headers, xDuo);
    }
    const url = `${origin}${path}${query ? `?${query}` : ''}`;
    const res = await doFetch(url, { method, headers, body: body || undefined, signal, redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  }

  /** One API call: transport, 429 backoff within the deadline, envelope. Yields `response` unvalidated. */
  async function call(method: Method, path: string, params: DuoParams, opts: CallOptions, signed = true) {
    const signal = deadlineSignal(opts, now);
    let rateLimited: { status: number; text: string } | undefined;
    for (let backoff = FIRST_BACKOFF_MS; ; backoff *= 2) {
      let answer: { status: number; text: string };
      try {
        answer = await send(method, path, params, signed, signal);
      } catch (e) {
        const error = transportError(e, opts.signal, signal);
        // Duo said 429 and the retry ran out of time: the answer is still Duo's refusal (a 4xx,
        // never failing open), not an outage.
        if (rateLimited && error.kind === 'transport' && error.reason === 'timeout') {
          return parseEnvelope(rateLimited.status, rateLimited.text);
        }
        return err(error);
      }
      if (answer.status === 429) rateLimited = answer;
      if (answer.status === 429 && backoff <= MAX_BACKOFF_MS) {
        const wait = backoff + random() * 1000;
        if (now() + wait < opts.deadline) {
          await sleep(wait, signal);
          continue;
        }
      }
      return parseEnvelope(answer.status, answer.text);
    }
  }

  async function callAs<T>(schema: z.ZodType<T>, ...args: Parameters<typeof call>): Promise<DuoResult<T>> {
    const r = await call(...args);
    if (!r.ok) return r;
    const parsed = schema.safeParse(r.value);
    if (parsed.success) return ok(parsed.data);
    const fields = parsed.error.issues.map((i) => i.path.map(String).join('.') || '(response)');
    return err({ kind: 'malformed', detail: `${args[1]}: invalid ${[...new Set(fields)].join(', ')}` });
  }

  return {
    async ping(opts) {
      const r = await callAs(timeResponse, 'GET', '/auth/v2/ping', {}, opts, false);
      if (r.ok) offsetMs = r.value.time * 1000 - now();
      return r;
    },
    check: (opts) => callAs(timeResponse, 'GET', '/auth/v2/check', {}, opts),
    preauth: (p, opts) => callAs(preauthResponse, 'POST', '/auth/v2/preauth', compact({ ...p }), opts),
    auth: (p, opts) => callAs(authResponse, 'POST', '/auth/v2/auth', authParams(p), opts),
    async authAsync(p, opts) {
      const started = await callAs(asyncAuthResponse, 'POST', '/auth/v2/auth', { ...authParams(p), async: '1' }, opts);
      if (!started.ok) return started;
      for (;;) {
        const status = await callAs(authStatusResponse, 'GET', '/auth/v2/auth_status', started.value, opts);
        if (!status.ok) return status;
        const { result, status: st, status_msg } = status.value;
        if (result !== 'waiting') return ok({ result, status: st, status_msg });
        // Never sleeps past the deadline: the next poll then aborts as a timeout.
        const wait = Math.max(0, Math.min(opts.pollIntervalMs ?? DEFAULT_POLL_MS, opts.deadline - now()));
        await sleep(wait, deadlineSignal(opts, now));
      }
    },
  };
}

function authParams({ pushinfo, ...p }: AuthParams): Record<string, string> {
  // Duo wants a device for every factor but passcode; `auto` picks the user's default.
  const device = p.device ?? (p.factor === 'passcode' ? undefined : 'auto');
  return compact({ ...p, device, pushinfo: pushinfo && canonParams(pushinfo) });
}

function compact(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
}

function deadlineSignal(opts: CallOptions, now: () => number): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(0, opts.deadline - now()));
  return opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
}

function transportError(e: unknown, caller: AbortSignal | undefined, combined: AbortSignal): DuoError {
  if (caller?.aborted) return { kind: 'transport', reason: 'timeout', detail: 'aborted by caller' };
  if (combined.aborted) return { kind: 'transport', reason: 'timeout', detail: 'deadline reached' };
  return { kind: 'transport', reason: 'network', detail: e instanceof Error ? e.message : String(e) };
}

/**
 * Classifies the envelope as the Duo Authentication Proxy does, so a site fails open or closed on
 * the same answers: 5xx is an outage, any other non-2xx or a 200 with stat FAIL is Duo refusing us
 * (bad keys or signature), a body without `stat` is unverifiable, a `stat` neither OK nor FAIL is
 * malformed.
 */
function parseEnvelope(status: number, text: string): DuoResult<unknown> {
  const json = parseJson(text);
  if (status < 200 || status >= 300)
    return err({ kind: status >= 500 ? 'http5xx' : 'http4xx', status, ...failDetail(json) });
  if (typeof json !== 'object' || json === null || !('stat' in json)) return err({ kind: 'not_json', status });
  if (json.stat === 'OK') {
    return 'response' in json ? ok(json.response) : err({ kind: 'malformed', detail: 'stat OK without response' });
  }
  // A 200 carrying stat FAIL is still Duo refusing the request: fail closed like a 4xx.
  if (json.stat === 'FAIL') return err({ kind: 'http4xx', status, ...failDetail(json) });
  return err({ kind: 'malformed', detail: 'stat neither OK nor FAIL' });
}

/** Duo's code and message from a stat FAIL body, when there is one. */
function failDetail(json: unknown): { code?: number; message?: string } {
  const fail = failBody.safeParse(json);
  if (!fail.success) return {};
  const { code, message } = fail.data;
  return { ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
