import { type Key, sign, verify } from '@duo-edge/contract/ed25519';
import { toBase64Url } from '@duo-edge/contract/encoding';
import { decisionMessage, HEADER, relayRequestMessage } from '@duo-edge/contract/signing';

/** The relay's side of @duo-edge/contract/signing: sign what goes out, verify what comes back. */

export interface RelayIdentity {
  site: string;
  /** base64url raw public key, sent so the edge can pick the site's key (and revoke it). */
  publicKey: string;
  privateKey: Key;
}

export function newNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function signedHeaders(
  id: RelayIdentity,
  req: { method: string; path: string; nonce: string; body: Uint8Array<ArrayBuffer>; now: number },
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(req.now / 1000));
  const message = await relayRequestMessage({
    method: req.method,
    path: req.path,
    site: id.site,
    timestamp,
    nonce: req.nonce,
    body: req.body,
  });
  return {
    [HEADER.site]: id.site,
    [HEADER.key]: id.publicKey,
    [HEADER.timestamp]: timestamp,
    [HEADER.nonce]: req.nonce,
    [HEADER.signature]: await sign(id.privateKey, message),
  };
}

/**
 * The edge's decision signature over the exact body bytes, bound to this request's path and nonce,
 * by any pinned key (current and next, so an edge key can be rotated without a gap).
 */
export async function verifyDecision(
  edgePublicKeys: ReadonlyArray<Key>,
  signature: string | null,
  p: { path: string; nonce: string; body: Uint8Array<ArrayBuffer> },
): Promise<boolean> {
  if (!signature) return false;
  const message = await decisionMessage(p);
  for (const key of edgePublicKeys) if (await verify(key, signature, message)) return true;
  return false;
}
