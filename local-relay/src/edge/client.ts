import { TextDecoder } from 'node:util';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  type AuditRecordUpload,
  type AuditUploadResponse,
  auditUploadResponseSchema,
} from '../../../src/audit/schemas.ts';
import { type HeartbeatRequest, heartbeatResponseSchema } from '../../../src/relays/schemas.ts';
import type { Key } from '../../../src/wire/ed25519.ts';
import { utf8 } from '../../../src/wire/encoding.ts';
import {
  type AuthRequest,
  type AuthResponse,
  authResponseSchema,
  type HealthResponse,
  healthResponseSchema,
  type PreauthRequest,
  type PreauthResponse,
  preauthResponseSchema,
  type SitePolicy,
  sitePolicySchema,
} from '../../../src/wire/schemas.ts';
import { HEADER } from '../../../src/wire/signatures.ts';
import type { CircuitBreaker } from './breaker.ts';
import type { EdgeFailure, EdgeResult } from './result.ts';
import { newNonce, type RelayIdentity, signedHeaders, verifyDecision } from './signing.ts';
import { classifyFetchError, nothingWasSent } from './transport.ts';

/** Calls the flows make. Tests substitute a fake; edge/client.ts is the real one. */
export interface EdgeApi {
  preauth(req: PreauthRequest): Promise<EdgeResult<PreauthResponse>>;
  auth(req: AuthRequest): Promise<EdgeResult<AuthResponse>>;
}

export interface EdgeClient extends EdgeApi {
  site(): Promise<EdgeResult<SitePolicy>>;
  /** Offline journal records (issue 5); the caller keeps each body under the edge's 16 KiB limit. */
  uploadAudit(records: ReadonlyArray<AuditRecordUpload>): Promise<EdgeResult<AuditUploadResponse>>;
  heartbeat(beat: HeartbeatRequest): Promise<EdgeResult<unknown>>;
  /** Liveness only (the breaker probe): unsigned, any HTTP answer below 500 counts. */
  health(): Promise<EdgeResult<HealthResponse | null>>;
}

export type EdgeStage = 'preauth' | 'auth' | 'site' | 'health' | 'audit' | 'heartbeat';

/** A call's outcome as metrics label it: HTTP errors split, since a 4xx is a refusal (revoked key). */
export type EdgeCallOutcome = 'ok' | 'transport' | 'http4xx' | 'http5xx' | 'bad_signature' | 'malformed';

export function callOutcome(r: EdgeResult<unknown>): EdgeCallOutcome {
  if (r.kind !== 'http') return r.kind;
  return r.status >= 500 ? 'http5xx' : 'http4xx';
}

export interface EdgeClientOptions {
  /** Tried in order. https, or http on loopback only (enforced by the config schema). */
  urls: string[];
  identity: RelayIdentity;
  edgePublicKey: Key;
  preauthTimeoutMs: number;
  authTimeoutMs: number;
  breaker: CircuitBreaker;
  logger: Logger;
  fetch?: typeof fetch;
  now?: () => number;
  /** Metrics seam (issue 6): one call per stage call, with its final outcome kind. */
  onCall?: (stage: EdgeStage, outcome: EdgeCallOutcome, seconds: number) => void;
}

/** Bodies are a few hundred bytes; anything much larger is not from our edge. */
const MAX_RESPONSE_BYTES = 64 * 1024;

interface CallSpec<T> {
  stage: EdgeStage;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  schema: z.ZodType<T>;
  timeoutMs: number;
}

export function createEdgeClient(opts: EdgeClientOptions): EdgeClient {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: 'edge-client' });

  async function attempt<T>(base: string, spec: CallSpec<T>, signal: AbortSignal): Promise<EdgeResult<T>> {
    const url = new URL(base.replace(/\/+$/, '') + spec.path);
    const body = spec.body === undefined ? new Uint8Array(0) : utf8(JSON.stringify(spec.body));
    const nonce = newNonce();
    const headers = await signedHeaders(opts.identity, {
      method: spec.method,
      path: url.pathname,
      nonce,
      body,
      now: now(),
    });
    if (spec.method === 'POST') headers['content-type'] = 'application/json';
    let status: number;
    let bytes: Uint8Array<ArrayBuffer>;
    let signature: string | null;
    try {
      const res = await doFetch(url, {
        method: spec.method,
        headers,
        ...(spec.method === 'POST' ? { body } : {}),
        signal,
        redirect: 'error',
      });
      status = res.status;
      signature = res.headers.get(HEADER.decisionSignature);
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (error) {
      const { cause, detail } = classifyFetchError(error);
      return { kind: 'transport', cause, detail };
    }
    if (status < 200 || status > 299) return { kind: 'http', status };
    if (bytes.length > MAX_RESPONSE_BYTES) return { kind: 'malformed', detail: 'response too large' };
    if (!(await verifyDecision(opts.edgePublicKey, signature, { path: url.pathname, nonce, body: bytes }))) {
      return { kind: 'bad_signature' };
    }
    return parse(bytes, spec.schema);
  }

  async function call<T>(spec: CallSpec<T>): Promise<EdgeResult<T>> {
    const started = performance.now();
    const result = await callUrls(spec);
    opts.onCall?.(spec.stage, callOutcome(result), (performance.now() - started) / 1000);
    if (result.kind === 'http' && (result.status === 401 || result.status === 403)) {
      // Logins now end in Reject (a 4xx never fails open) until an operator fixes the key.
      log.error(
        { stage: spec.stage, status: result.status, site: opts.identity.site, publicKey: opts.identity.publicKey },
        'the edge refused this relay: its key is revoked, removed or not configured for this site',
      );
    } else if (result.kind !== 'ok') log.warn({ stage: spec.stage, failure: describe(result) }, 'edge call failed');
    return result;
  }

  async function callUrls<T>(spec: CallSpec<T>): Promise<EdgeResult<T>> {
    if (!opts.breaker.allows()) return { kind: 'transport', cause: 'breaker_open' };
    const signal = AbortSignal.timeout(spec.timeoutMs);
    let result: EdgeResult<T> = { kind: 'transport', cause: 'refused', detail: 'no edge url' };
    for (const base of opts.urls) {
      result = await attempt(base, spec, signal);
      if (!shouldTryNext(spec.stage, result) || signal.aborted) break;
    }
    if (result.kind === 'transport') opts.breaker.recordTransportFailure();
    else opts.breaker.recordSuccess();
    return result;
  }

  return {
    preauth: (req) =>
      call({
        stage: 'preauth',
        method: 'POST',
        path: '/v1/preauth',
        body: req,
        schema: preauthResponseSchema,
        timeoutMs: opts.preauthTimeoutMs,
      }),
    auth: (req) =>
      call({
        stage: 'auth',
        method: 'POST',
        path: '/v1/auth',
        body: req,
        schema: authResponseSchema,
        timeoutMs: opts.authTimeoutMs,
      }),
    site: () =>
      call({
        stage: 'site',
        method: 'GET',
        path: '/v1/site',
        schema: sitePolicySchema,
        timeoutMs: opts.preauthTimeoutMs,
      }),
    uploadAudit: (records) =>
      call({
        stage: 'audit',
        method: 'POST',
        path: '/v1/audit',
        body: { records },
        schema: auditUploadResponseSchema,
        timeoutMs: opts.preauthTimeoutMs,
      }),
    heartbeat: (beat) =>
      call({
        stage: 'heartbeat',
        method: 'POST',
        path: '/v1/heartbeat',
        body: beat,
        schema: heartbeatResponseSchema,
        timeoutMs: opts.preauthTimeoutMs,
      }),
    health: () => health(),
  };

  /** Bypasses the breaker on purpose: it is how the breaker learns the edge is back. */
  async function health(): Promise<EdgeResult<HealthResponse | null>> {
    const signal = AbortSignal.timeout(opts.preauthTimeoutMs);
    let result: EdgeResult<HealthResponse | null> = { kind: 'transport', cause: 'refused' };
    for (const base of opts.urls) {
      try {
        const res = await doFetch(new URL(`${base.replace(/\/+$/, '')}/v1/health`), { signal, redirect: 'error' });
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (res.status >= 500) {
          result = { kind: 'http', status: res.status };
          continue;
        }
        const parsed = res.ok ? parse(bytes, healthResponseSchema) : undefined;
        return { kind: 'ok', value: parsed?.kind === 'ok' ? parsed.value : null };
      } catch (error) {
        const { cause, detail } = classifyFetchError(error);
        result = { kind: 'transport', cause, detail };
        if (signal.aborted) break;
      }
    }
    return result;
  }
}

/**
 * Failover to the next URL. For /v1/auth only when nothing reached the edge: a timeout or reset may
 * mean the first edge already sent a push, and a second URL would send another.
 */
function shouldTryNext(stage: EdgeStage, r: EdgeResult<unknown>): boolean {
  switch (r.kind) {
    case 'ok':
    case 'bad_signature':
    case 'malformed':
      return false;
    case 'transport':
      return stage !== 'auth' || nothingWasSent(r.cause);
    case 'http':
      return stage !== 'auth' && r.status >= 500;
  }
}

function parse<T>(bytes: Uint8Array<ArrayBuffer>, schema: z.ZodType<T>): EdgeResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { kind: 'malformed', detail: 'body is not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      kind: 'malformed',
      detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    };
  }
  return { kind: 'ok', value: parsed.data };
}

export function describe(f: EdgeFailure): string {
  switch (f.kind) {
    case 'transport':
      return `transport ${f.cause}${f.detail ? ` (${f.detail})` : ''}`;
    case 'http':
      return `http ${f.status}`;
    case 'bad_signature':
      return 'bad or missing decision signature';
    case 'malformed':
      return `malformed response: ${f.detail}`;
  }
}
