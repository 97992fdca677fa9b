import { TextDecoder } from 'node:util';
import { type AuditRecordUpload, type AuditUploadResponse, auditUploadResponseSchema } from '@duo-edge/contract/audit';
import type { Key } from '@duo-edge/contract/ed25519';
import { utf8 } from '@duo-edge/contract/encoding';
import { type HeartbeatRequest, heartbeatResponseSchema } from '@duo-edge/contract/heartbeat';
import { HEADER } from '@duo-edge/contract/signing';
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
} from '@duo-edge/contract/wire';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CircuitBreaker } from './breaker.ts';
import { type CallSignal, DeadlineQueue } from './deadline.ts';
import type { EdgeResponse, EdgeTransport } from './http/exchange.ts';
import { PROXY_AUTH_REQUIRED, PROXY_REFUSED } from './proxy.ts';
import { refusalCode } from './refusal-code.ts';
import type { EdgeFailure, EdgeResult } from './result.ts';
import {
  newNonce,
  type RelayIdentity,
  type SigningKeys,
  signedHeaders,
  signingKeys,
  verifyDecision,
} from './signing.ts';
import { nothingWasSent, transportFailure } from './transport.ts';

/** Calls the flows make. Tests substitute a fake; edge/client.ts is the real one. */
export interface EdgeApi {
  preauth(req: PreauthRequest): Promise<EdgeResult<PreauthResponse>>;
  auth(req: AuthRequest): Promise<EdgeResult<AuthResponse>>;
}

export interface EdgeClient extends EdgeApi {
  /**
   * Swaps URLs, identity, pinned keys and timeouts at once (reload, a new site policy). A call
   * already under way finishes with the connection it started with.
   */
  configure(next: EdgeConnection): void;
  site(): Promise<EdgeResult<SitePolicy>>;
  /** Offline journal records (decisions the edge never saw); the caller keeps each body under the
   * contract's MAX_BODY_BYTES. */
  uploadAudit(records: ReadonlyArray<AuditRecordUpload>): Promise<EdgeResult<AuditUploadResponse>>;
  heartbeat(beat: HeartbeatRequest): Promise<EdgeResult<unknown>>;
  /** Liveness only (the breaker probe): unsigned, any HTTP answer below 500 counts. */
  health(): Promise<EdgeResult<HealthResponse | null>>;
}

export type EdgeStage = 'preauth' | 'auth' | 'site' | 'health' | 'audit' | 'heartbeat';

/** A call's outcome as metrics label it: HTTP errors split, since a 4xx is a refusal (revoked key). */
export type EdgeCallOutcome = 'ok' | 'transport' | 'http4xx' | 'http5xx' | 'unverified' | 'version_skew';

export function callOutcome(r: EdgeResult<unknown>): EdgeCallOutcome {
  if (r.kind !== 'http') return r.kind;
  return r.status >= 500 ? 'http5xx' : 'http4xx';
}

/** Who the relay is and which edge it trusts: what a reload may change. */
export interface EdgeConnection {
  /** Tried in order. https, or http on loopback only (enforced by the config schema). */
  urls: string[];
  identity: RelayIdentity;
  /** Pinned decision-signing keys (current and next): an answer signed by any of them is the edge's. */
  edgePublicKeys: Key[];
  /** Also bounds the calls that do not reach Duo (site, audit, heartbeat, health). */
  preauthTimeoutMs: number;
  authTimeoutMs: number;
}

export interface EdgeClientOptions extends EdgeConnection {
  breaker: CircuitBreaker;
  logger: Logger;
  /** Shared by every site's client; its owner closes it. */
  transport: EdgeTransport;
  now?: () => number;
  /** Metrics seam: one call per stage call, with its final outcome kind. */
  onCall?: (stage: EdgeStage, outcome: EdgeCallOutcome, seconds: number) => void;
  /** The edge refused with a 4xx whose body names an error code (`site_misconfigured`, ...). */
  onRefusal?: (stage: EdgeStage, code: string) => void;
}

/** Bodies are a few hundred bytes; anything much larger is not from our edge. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** A refusal body only needs room for its error code and a sentence. */
const MAX_ERROR_BODY_BYTES = 4 * 1024;
const bodyCap = (status: number) => (status >= 200 && status <= 299 ? MAX_RESPONSE_BYTES : MAX_ERROR_BODY_BYTES);

/** What differs between the calls: one constant per kind, so a call allocates none of it. */
interface CallSpec<T> {
  stage: EdgeStage;
  method: 'GET' | 'POST';
  path: string;
  schema: z.ZodType<T>;
  timeoutMs: (c: StageTimeouts) => number;
}

const NO_BODY = new Uint8Array(0);
// Shared, not one per call: a waiting call's frame holds its result so far.
const BREAKER_OPEN: EdgeFailure = Object.freeze({ kind: 'transport', cause: 'breaker_open' });
const NO_EDGE_URL: EdgeFailure = Object.freeze({ kind: 'transport', cause: 'refused', detail: 'no edge url' });
const json = (value: unknown) => utf8(JSON.stringify(value));
type StageTimeouts = Pick<EdgeConnection, 'preauthTimeoutMs' | 'authTimeoutMs'>;
const preauthTimeout = (c: StageTimeouts) => c.preauthTimeoutMs;
const callSpec = <T>(stage: EdgeStage, method: 'GET' | 'POST', path: string, schema: z.ZodType<T>): CallSpec<T> => ({
  stage,
  method,
  path,
  schema,
  timeoutMs: stage === 'auth' ? (c) => c.authTimeoutMs : preauthTimeout,
});
const PREAUTH = callSpec('preauth', 'POST', '/v1/preauth', preauthResponseSchema);
const AUTH = callSpec('auth', 'POST', '/v1/auth', authResponseSchema);
const SITE = callSpec('site', 'GET', '/v1/site', sitePolicySchema);
const AUDIT = callSpec('audit', 'POST', '/v1/audit', auditUploadResponseSchema);
const HEARTBEAT = callSpec('heartbeat', 'POST', '/v1/heartbeat', heartbeatResponseSchema);

export function createEdgeClient(opts: EdgeClientOptions): EdgeClient {
  const { transport } = opts;
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: 'edge-client' });
  const deadlines = new DeadlineQueue();
  let conn = pick(opts);

  /**
   * The answer of one try at one URL, as a result: nothing in a 2xx is looked at before its
   * signature, over `path` and `nonce`, verifies.
   */
  function verified<T>(
    c: PickedConnection,
    res: EdgeResponse,
    path: string,
    nonce: string,
    schema: z.ZodType<T>,
  ): EdgeResult<T> {
    const { status, body: read } = res;
    if (status < 200 || status > 299) {
      const code = status < 500 && read !== 'too_large' ? refusalCode(read) : undefined;
      return { kind: 'http', status, ...(code ? { code } : {}) };
    }
    // The signature first: nothing in a 2xx is looked at before it is known to be the edge's.
    if (read === 'too_large') return { kind: 'unverified', detail: `response over ${MAX_RESPONSE_BYTES} bytes` };
    const signature = res.header(HEADER.decisionSignature);
    if (!signature) return { kind: 'unverified', detail: 'missing decision signature' };
    if (!verifyDecision(c.keys.edgePublicKeys, signature, { path, nonce, body: read })) {
      return { kind: 'unverified', detail: 'decision signature does not verify with a pinned edge key' };
    }
    return parse(read, schema);
  }

  /** Signs the request and hands it to the transport; nothing here outlives the send. */
  function send<T>(
    c: PickedConnection,
    url: URL,
    spec: CallSpec<T>,
    body: Uint8Array<ArrayBuffer>,
    nonce: string,
    signal: CallSignal,
  ): Promise<EdgeResponse> {
    const headers = signedHeaders(c.identity, c.keys.privateKey, {
      method: spec.method,
      path: url.pathname,
      nonce,
      body,
      now: now(),
    });
    if (spec.method === 'POST') headers['content-type'] = 'application/json';
    return transport.request({
      url,
      method: spec.method,
      headers,
      ...(spec.method === 'POST' ? { body } : {}),
      signal,
      maxBytes: bodyCap,
    });
  }

  /**
   * Tries the URLs in order within one deadline. One frame for the whole call, and the only one of
   * the edge client a waiting push keeps: the encoded body (for the next URL), and per try the nonce
   * and path its answer's signature is checked against.
   */
  async function run<T>(spec: CallSpec<T>, body: Uint8Array<ArrayBuffer> = NO_BODY): Promise<EdgeResult<T>> {
    const c = conn;
    const started = performance.now();
    let result: EdgeResult<T> = BREAKER_OPEN;
    if (opts.breaker.allows()) {
      const due = deadlines.start(spec.timeoutMs(c));
      result = NO_EDGE_URL;
      try {
        for (let i = 0; i < c.urls.length; i++) {
          const { url, path } = c.endpoint(i, spec.path);
          const nonce = newNonce();
          let res: EdgeResponse | undefined;
          try {
            // Never buffered without bound: past the cap the relay stops reading and drops the stream.
            res = await send(c, url, spec, body, nonce, due.signal);
          } catch (error) {
            result = transportFailure(error);
          }
          if (res) result = verified(c, res, path, nonce, spec.schema);
          if (!shouldTryNext(spec.stage, result) || due.signal.aborted) break;
        }
      } finally {
        due.done();
      }
      // Only an outage counts towards opening the breaker. An unverifiable answer is neither: counting
      // it would let whoever can inject one open the breaker for every login.
      if (result.kind === 'transport') opts.breaker.recordTransportFailure();
      else if (result.kind !== 'unverified') opts.breaker.recordSuccess();
    }
    opts.onCall?.(spec.stage, callOutcome(result), (performance.now() - started) / 1000);
    if (result.kind === 'http' && result.code) opts.onRefusal?.(spec.stage, result.code);
    if (result.kind === 'http' && result.status >= 400 && result.status < 500) {
      // Logins now end in Reject (a 4xx never fails open) until an operator fixes what the edge names.
      log.error(
        {
          stage: spec.stage,
          status: result.status,
          code: result.code,
          site: c.identity.site,
          publicKey: c.identity.publicKey,
        },
        refusalHint(result.status, result.code),
      );
    } else if (result.kind !== 'ok') log.warn({ stage: spec.stage, failure: describe(result) }, 'edge call failed');
    return result;
  }

  return {
    configure(next) {
      conn = pick(next);
    },
    // Encoded before the call: its frame keeps the bytes (for the next URL), not the request object.
    preauth: (req) => run(PREAUTH, json(req)),
    auth: (req) => run(AUTH, json(req)),
    site: () => run(SITE),
    uploadAudit: (records) => run(AUDIT, json({ records })),
    heartbeat: (beat) => run(HEARTBEAT, json(beat)),
    health: () => health(),
  };

  /** Bypasses the breaker on purpose: it is how the breaker learns the edge is back. */
  async function health(): Promise<EdgeResult<HealthResponse | null>> {
    const c = conn;
    const due = deadlines.start(c.preauthTimeoutMs);
    try {
      return await healthUrls(c, due.signal);
    } finally {
      due.done();
    }
  }

  async function healthUrls(c: PickedConnection, signal: CallSignal): Promise<EdgeResult<HealthResponse | null>> {
    let result: EdgeResult<HealthResponse | null> = { kind: 'transport', cause: 'refused' };
    for (let i = 0; i < c.urls.length; i++) {
      try {
        const res = await transport.request({
          url: c.endpoint(i, '/v1/health').url,
          method: 'GET',
          headers: {},
          signal,
          maxBytes: () => MAX_RESPONSE_BYTES,
        });
        if (res.status >= 500) {
          result = { kind: 'http', status: res.status };
          continue;
        }
        const { status, body } = res;
        const parsed =
          status >= 200 && status <= 299 && body !== 'too_large' ? parse(body, healthResponseSchema) : undefined;
        return { kind: 'ok', value: parsed?.kind === 'ok' ? parsed.value : null };
      } catch (error) {
        result = transportFailure(error);
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
    case 'unverified':
    case 'version_skew':
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
    return { kind: 'version_skew', detail: 'signed body is not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      kind: 'version_skew',
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
      return `http ${f.status}${f.code ? ` (${f.code})` : ''}`;
    case 'unverified':
      return `unverifiable answer: ${f.detail}`;
    case 'version_skew':
      return `signed answer this relay cannot parse (version skew): ${f.detail}`;
  }
}

/** What an admin does about a refusal; the code comes from the edge's (unsigned) error body. */
export function refusalHint(status: number, code: string | undefined): string {
  switch (code) {
    case 'site_misconfigured':
      return 'edge refused: site_misconfigured — fix the site entry in SITES_CONFIG';
    case 'edge_misconfigured':
      return 'edge refused: edge_misconfigured — fix the edge secrets (EDGE_SIGNING_KEY)';
    case PROXY_AUTH_REQUIRED:
      return 'the outbound proxy refused (HTTP 407): fix edge.proxy_credentials';
    case PROXY_REFUSED:
      return `the outbound proxy refused the edge call (HTTP ${status}): allow the edge host on the proxy`;
    default:
      return status === 401 || status === 403
        ? `edge refused (HTTP ${status}${code ? `, ${code}` : ''}): this relay's key is revoked, removed or not configured for this site`
        : `edge refused the request (HTTP ${status}${code ? `, ${code}` : ''})`;
  }
}

/** A call's target at one edge URL. */
interface Endpoint {
  url: URL;
  /**
   * The path the request goes to (an edge URL may carry a route prefix): signed, and what the
   * answer's signature is checked against.
   */
  path: string;
}

/** A configuration as the client keeps it: its pinned edge keys only as node:crypto's key objects. */
interface PickedConnection extends Omit<EdgeConnection, 'edgePublicKeys'> {
  /** The relay's key and the pinned edge keys as node:crypto takes them, converted once per configuration. */
  keys: SigningKeys;
  /** Parsed once per connection and shared by every call to it: a waiting push holds no URL of its own. */
  endpoint(urlIndex: number, path: string): Endpoint;
}

function pick(c: EdgeConnection): PickedConnection {
  const urls = [...c.urls];
  const endpoints = new Map<string, Endpoint>();
  return {
    keys: signingKeys(c.identity, c.edgePublicKeys),
    urls,
    identity: c.identity,
    preauthTimeoutMs: c.preauthTimeoutMs,
    authTimeoutMs: c.authTimeoutMs,
    endpoint(urlIndex, path) {
      const href = urls[urlIndex]!.replace(/\/+$/, '') + path;
      let e = endpoints.get(href);
      if (!e) {
        const url = new URL(href);
        e = { url, path: url.pathname };
        endpoints.set(href, e);
      }
      return e;
    },
  };
}
