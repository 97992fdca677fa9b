import { type CanonRequest, canonicalV5, canonXDuoHeaders } from './canonical.ts';

/**
 * Duo request signatures with WebCrypto (runs in workerd and Node):
 * `Authorization: Basic base64(ikey ":" hex(HMAC(skey, canonical)))`. The edge signs v5 only; older
 * versions (SHA-1 among them) live with the Duo emulator, which accepts what other clients send.
 */

export type HmacHash = 'SHA-1' | 'SHA-512';

const utf8 = new TextEncoder();

const toHex = (buf: ArrayBuffer): string =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export async function sha512Hex(s: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-512', utf8.encode(s)));
}

export function hmacKey(skey: string, hash: HmacHash): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', utf8.encode(skey), { name: 'HMAC', hash }, false, ['sign', 'verify']);
}

export async function hmacHex(hash: HmacHash, skey: string, canonical: string): Promise<string> {
  return toHex(await crypto.subtle.sign('HMAC', await hmacKey(skey, hash), utf8.encode(canonical)));
}

export function basicAuthorization(ikey: string, hex: string): string {
  const bytes = utf8.encode(`${ikey}:${hex}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** RFC 2822 in UTC with `-0000`, as Python's email.utils.formatdate() and duo_hmac send it. */
export function rfc2822Date(epochMs: number): string {
  return new Date(epochMs).toUTCString().replace(/GMT$/, '-0000');
}

export interface V5Request extends CanonRequest {
  /** Exact body bytes sent ('' for GET). */
  body: string;
  /** All request headers; only `x-duo*` ones are signed. */
  headers: Readonly<Record<string, string>>;
}

export async function canonicalV5For(r: V5Request): Promise<string> {
  const [bodySha512, headersSha512] = await Promise.all([sha512Hex(r.body), sha512Hex(canonXDuoHeaders(r.headers))]);
  return canonicalV5({ ...r, bodySha512, headersSha512 });
}

export interface Credentials {
  ikey: string;
  skey: string;
}

export async function signV5(creds: Credentials, r: V5Request): Promise<string> {
  return basicAuthorization(creds.ikey, await hmacHex('SHA-512', creds.skey, await canonicalV5For(r)));
}
