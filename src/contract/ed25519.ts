import { fromBase64Url, toBase64Url } from './encoding.ts';

/**
 * Ed25519 key handling shared by edge and relay. Public keys travel as base64url of the 32 raw
 * bytes; private keys as PKCS#8 PEM (what `openssl genpkey -algorithm ed25519` and `duo-relay keygen`
 * write), so admins can use standard tools.
 */

const ALG = { name: 'Ed25519' } as const;

/** CryptoKey, spelled so it resolves under both the Workers and the Node type environments. */
export type Key = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export async function importPublicKey(b64url: string): Promise<Key | null> {
  const raw = fromBase64Url(b64url);
  if (!raw || raw.length !== 32) return null;
  try {
    // Extractable: a public key is no secret, and the relay hands it to node:crypto, whose
    // KeyObject.from deprecates non-extractable keys.
    return await crypto.subtle.importKey('raw', raw, ALG, true, ['verify']);
  } catch {
    return null;
  }
}

export async function importPrivateKeyPem(pem: string): Promise<Key | null> {
  const body = pem
    .replace(/-----BEGIN PRIVATE KEY-----/, '')
    .replace(/-----END PRIVATE KEY-----/, '')
    .replace(/\s+/g, '');
  const der = fromBase64Url(body);
  if (!der) return null;
  try {
    return await crypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
  } catch {
    return null;
  }
}

/** The base64url raw public key matching a private key (JWK `x` is exactly that). */
export async function publicKeyOf(privateKey: Key): Promise<string> {
  const jwk = (await crypto.subtle.exportKey('jwk', privateKey)) as { x?: string };
  if (!jwk.x) throw new Error('not an Ed25519 private key');
  return jwk.x;
}

export async function sign(privateKey: Key, message: Uint8Array<ArrayBuffer>): Promise<string> {
  return toBase64Url(await crypto.subtle.sign(ALG, privateKey, message));
}

/** An Ed25519 signature's 64 bytes from its base64url form; null for anything else. */
export function signatureBytes(signatureB64url: string): Uint8Array<ArrayBuffer> | null {
  const sig = fromBase64Url(signatureB64url);
  return sig && sig.length === 64 ? sig : null;
}

/** Constant-time by construction (WebCrypto verify); false for any malformed signature. */
export async function verify(
  publicKey: Key,
  signatureB64url: string,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  const sig = signatureBytes(signatureB64url);
  if (!sig) return false;
  try {
    return await crypto.subtle.verify(ALG, publicKey, sig, message);
  } catch {
    return false;
  }
}

export async function generateKeyPair(): Promise<{ privateKeyPem: string; publicKey: string }> {
  const pair = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as { privateKey: Key; publicKey: Key };
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
  const b64 = btoa(String.fromCharCode(...pkcs8));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return {
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`,
    publicKey: await publicKeyOf(pair.privateKey),
  };
}
