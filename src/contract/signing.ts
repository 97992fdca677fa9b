import { sha256Hex, utf8 } from './encoding.ts';

/**
 * What relays and the edge sign. Kept in one small module so a reviewer can audit the exact bytes.
 *
 * Relay request: the relay signs method, path, site, timestamp, nonce and SHA-256 of the body with
 * its Ed25519 key. The edge refuses anything unsigned, from an unknown key, or more than
 * MAX_SKEW_SECONDS off.
 *
 * Edge decision: the edge signs the exact response body bytes bound to the request's nonce and path,
 * so a TLS-intercepting middlebox can neither forge an answer nor replay one onto another request.
 */

export const HEADER = {
  site: 'x-duo-edge-site',
  key: 'x-duo-edge-key',
  timestamp: 'x-duo-edge-timestamp',
  nonce: 'x-duo-edge-nonce',
  signature: 'x-duo-edge-signature',
  decisionSignature: 'x-duo-edge-decision-signature',
} as const;

export const MAX_SKEW_SECONDS = 60;
/**
 * A (relay key, nonce) is refused when seen again within this long: a request older than the skew
 * is refused by its timestamp, so twice the skew covers every timestamp the edge still accepts.
 */
export const REPLAY_WINDOW_MS = 2 * MAX_SKEW_SECONDS * 1000;
/**
 * Longest value of each relay-auth header, checked before any decoding or pattern: site names are
 * at most 64, a base64url Ed25519 key 43 (44 in padded base64), a signature 86, a nonce 64.
 */
export const MAX_HEADER_CHARS: Readonly<Record<Exclude<keyof typeof HEADER, 'decisionSignature'>, number>> = {
  site: 64,
  key: 64,
  timestamp: 12,
  nonce: 64,
  signature: 128,
};
export const MAX_BODY_BYTES = 16 * 1024;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

export interface RelayRequestParts {
  method: string;
  path: string;
  site: string;
  timestamp: string;
  nonce: string;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * The signed bytes, given the body's SHA-256 (lower-case hex). The async builders below hash with
 * WebCrypto (the Worker has nothing else); the relay hashes synchronously and calls these directly.
 */
export function relayRequestMessageOf(
  p: Omit<RelayRequestParts, 'body'> & { bodyHash: string },
): Uint8Array<ArrayBuffer> {
  return utf8(
    ['duo-edge-relay-request-v1', p.method.toUpperCase(), p.path, p.site, p.timestamp, p.nonce, p.bodyHash].join('\n'),
  );
}

export function decisionMessageOf(p: { path: string; nonce: string; bodyHash: string }): Uint8Array<ArrayBuffer> {
  return utf8(['duo-edge-decision-v1', p.path, p.nonce, p.bodyHash].join('\n'));
}

export async function relayRequestMessage(p: RelayRequestParts): Promise<Uint8Array<ArrayBuffer>> {
  return relayRequestMessageOf({ ...p, bodyHash: await sha256Hex(p.body) });
}

export async function decisionMessage(p: {
  path: string;
  nonce: string;
  body: Uint8Array<ArrayBuffer>;
}): Promise<Uint8Array<ArrayBuffer>> {
  return decisionMessageOf({ path: p.path, nonce: p.nonce, bodyHash: await sha256Hex(p.body) });
}
