import { readBounded } from '@duo-edge/contract/bounded-body';
import { importPublicKey, type Key, verify } from '@duo-edge/contract/ed25519';
import {
  HEADER,
  MAX_BODY_BYTES,
  MAX_HEADER_CHARS,
  MAX_SKEW_SECONDS,
  NONCE_PATTERN,
  relayRequestMessage,
} from '@duo-edge/contract/signing';
import type { MiddlewareHandler } from 'hono';
import { logEvent } from '../log.ts';
import type { ResolvedSite } from '../sites/load.ts';
import type { EdgeContextVariables } from './edge-context.ts';
import { errorResponse } from './errors.ts';

export type RelayAuthVariables = {
  /** The site the relay's key belongs to. */
  site: ResolvedSite;
  /** The relay's public key (canonical base64url), its identity in logs and the audit log. */
  relayKey: string;
  /** The request nonce; decisions are signed bound to it. */
  nonce: string;
};

export interface RelayAuthOptions {
  /** Epoch ms. */
  now?: () => number;
  maxBodyBytes?: number;
  maxSkewSeconds?: number;
}

type Refusal =
  | 'missing_header'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'bad_nonce'
  | 'unknown_site'
  | 'unknown_key'
  | 'revoked_key'
  | 'bad_signature';

const TIMESTAMP = /^[0-9]{1,12}$/;

/**
 * Authenticates a relay request: Ed25519 over method, path, site, timestamp, nonce and SHA-256 of
 * the body (the contract's relayRequestMessage), by a key the site lists and has not revoked,
 * within the allowed clock skew. Every refusal is the same generic 401; the log says which check
 * failed.
 */
export const relayAuth = (
  options: RelayAuthOptions = {},
): MiddlewareHandler<{
  Variables: EdgeContextVariables & RelayAuthVariables;
}> => {
  const now = options.now ?? Date.now;
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const maxSkew = options.maxSkewSeconds ?? MAX_SKEW_SECONDS;
  // Imported once per key for the life of this middleware (one per isolate).
  const publicKeys = new Map<string, Promise<Key | null>>();
  const importCached = (key: string): Promise<Key | null> => {
    let k = publicKeys.get(key);
    if (!k) {
      k = importPublicKey(key);
      publicKeys.set(key, k);
    }
    return k;
  };

  return async function relayAuth(c, next) {
    const refuse = (reason: Refusal) => {
      logEvent('warn', 'relay_auth_refused', { reason, path: c.req.path });
      return errorResponse('unauthorized');
    };
    for (const [name, max] of Object.entries(MAX_HEADER_CHARS)) {
      const header = HEADER[name as keyof typeof MAX_HEADER_CHARS];
      // Before any decoding or pattern: attacker-sized text never reaches either.
      if ((c.req.header(header)?.length ?? 0) > max) {
        logEvent('warn', 'relay_auth_refused', { reason: 'header_too_long', header, path: c.req.path });
        return errorResponse('invalid_request', header);
      }
    }
    const siteId = c.req.header(HEADER.site);
    const keyId = c.req.header(HEADER.key);
    const timestamp = c.req.header(HEADER.timestamp);
    const nonce = c.req.header(HEADER.nonce);
    const signature = c.req.header(HEADER.signature);
    if (!siteId || !keyId || !timestamp || !nonce || !signature) return refuse('missing_header');
    if (!TIMESTAMP.test(timestamp)) return refuse('bad_timestamp');
    if (Math.abs(now() / 1000 - Number(timestamp)) > maxSkew) return refuse('stale_timestamp');
    if (!NONCE_PATTERN.test(nonce)) return refuse('bad_nonce');

    const body = await readBounded(c.req.raw, maxBody);
    if (body === 'too_large') {
      logEvent('warn', 'relay_request_too_large', { path: c.req.path });
      return errorResponse('payload_too_large');
    }

    const found = c.var.edge.sites.lookup(siteId);
    if (found.kind === 'misconfigured') {
      // Its keys may be what is broken, so the request cannot be verified: refuse it as a 4xx,
      // which the relay answers with Reject. The log names where the entry is wrong, not what it holds.
      logEvent('error', 'site_misconfigured', {
        site: siteId,
        config_path: found.problem.path,
        code: found.problem.code,
        path: c.req.path,
      });
      return errorResponse('site_misconfigured');
    }
    if (found.kind === 'unknown') return refuse('unknown_site');
    const site = found.site;
    const entry = site.relayKeys.get(keyId);
    if (!entry) return refuse('unknown_key');
    if (entry.revoked) return refuse('revoked_key');
    const publicKey = await importCached(keyId);
    const message = await relayRequestMessage({
      method: c.req.method,
      // The raw (still percent-encoded) path, exactly as the relay put it on the wire.
      path: new URL(c.req.url).pathname,
      site: siteId,
      timestamp,
      nonce,
      body,
    });
    if (!publicKey || !(await verify(publicKey, signature, message))) return refuse('bad_signature');

    // Later readers (validators, c.req.json()) are served from these verified bytes. Hono stores
    // promises in this cache although its type says otherwise.
    c.req.bodyCache.arrayBuffer = Promise.resolve(body.buffer) as unknown as ArrayBuffer;
    c.set('site', site);
    c.set('relayKey', keyId);
    c.set('nonce', nonce);
    await next();
  };
};
