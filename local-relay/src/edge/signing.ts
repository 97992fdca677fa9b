import { createHash, KeyObject, sign, verify, type webcrypto } from 'node:crypto';
import { type Key, signatureBytes } from '@duo-edge/contract/ed25519';
import { toBase64Url } from '@duo-edge/contract/encoding';
import { decisionMessageOf, HEADER, relayRequestMessageOf } from '@duo-edge/contract/signing';

/**
 * The relay's side of @duo-edge/contract/signing: sign what goes out, verify what comes back.
 *
 * Synchronous, with node:crypto: when thousands of pushes are approved at once, WebCrypto would queue
 * a digest and a verify job per answer on the thread pool, each holding the answer's bytes and a
 * promise until its turn — a burst of answers then costs tens of MiB before the first is settled.
 */

export interface RelayIdentity {
  site: string;
  /** base64url raw public key, sent so the edge can pick the site's key (and revoke it). */
  publicKey: string;
  privateKey: Key;
}

/** The keys as node:crypto takes them, converted once per configuration, not per call. */
export interface SigningKeys {
  privateKey: KeyObject;
  /** Pinned decision-signing keys (current and next). */
  edgePublicKeys: ReadonlyArray<KeyObject>;
}

export function signingKeys(identity: RelayIdentity, edgePublicKeys: ReadonlyArray<Key>): SigningKeys {
  // The contract's Key is WebCrypto's CryptoKey under the Workers' types; Node's is the same object.
  const node = (k: Key) => KeyObject.from(k as webcrypto.CryptoKey);
  return { privateKey: node(identity.privateKey), edgePublicKeys: edgePublicKeys.map(node) };
}

export function newNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

const sha256Hex = (body: Uint8Array) => createHash('sha256').update(body).digest('hex');

export function signedHeaders(
  id: RelayIdentity,
  privateKey: KeyObject,
  req: { method: string; path: string; nonce: string; body: Uint8Array<ArrayBuffer>; now: number },
): Record<string, string> {
  const timestamp = String(Math.floor(req.now / 1000));
  const message = relayRequestMessageOf({
    method: req.method,
    path: req.path,
    site: id.site,
    timestamp,
    nonce: req.nonce,
    bodyHash: sha256Hex(req.body),
  });
  return {
    [HEADER.site]: id.site,
    [HEADER.key]: id.publicKey,
    [HEADER.timestamp]: timestamp,
    [HEADER.nonce]: req.nonce,
    [HEADER.signature]: toBase64Url(sign(null, message, privateKey)),
  };
}

/**
 * The edge's decision signature over the exact body bytes, bound to this request's path and nonce,
 * by any pinned key (current and next, so an edge key can be rotated without a gap). False for a
 * signature that is not 64 bytes of base64url.
 */
export function verifyDecision(
  edgePublicKeys: ReadonlyArray<KeyObject>,
  signature: string | null,
  p: { path: string; nonce: string; body: Uint8Array<ArrayBuffer> },
): boolean {
  if (!signature) return false;
  const sig = signatureBytes(signature);
  if (!sig) return false;
  const message = decisionMessageOf({ path: p.path, nonce: p.nonce, bodyHash: sha256Hex(p.body) });
  return edgePublicKeys.some((key) => {
    try {
      return verify(null, message, key, sig);
    } catch {
      return false;
    }
  });
}
