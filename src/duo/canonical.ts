/**
 * Duo request canonicalization, byte for byte as Duo's own SDKs build it (a single byte off and Duo
 * answers 401), shared by every signature version.
 * Pure string work: hashing and HMAC live in sign.ts.
 */

/** Parameter values as Duo sees them: one string, or several for a multi-valued key. */
export type DuoParams = Readonly<Record<string, string | readonly string[]>>;

const HEX = '0123456789ABCDEF';
const utf8 = new TextEncoder();

/** RFC 3986 unreserved bytes stay; every other UTF-8 byte becomes uppercase %XX (space is %20, never +). */
export function encodeParam(s: string): string {
  let out = '';
  for (const b of utf8.encode(s)) {
    const unreserved =
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

// Encoded strings are pure ASCII, so UTF-16 comparison is the byte-wise order Duo uses.
const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `k=v&…` sorted by encoded key, then by encoded value; also a valid query string / form body. */
export function canonParams(params: DuoParams): string {
  const pairs: string[] = [];
  const keys = Object.keys(params).map((k) => [encodeParam(k), k] as const);
  keys.sort((a, b) => byteOrder(a[0], b[0]));
  for (const [ek, k] of keys) {
    const raw = params[k] ?? [];
    const values = (typeof raw === 'string' ? [raw] : [...raw]).map(encodeParam).sort(byteOrder);
    for (const v of values) pairs.push(`${ek}=${v}`);
  }
  return pairs.join('&');
}

/** The string hashed for v5's last line: `x-duo*` headers, names lowercased and sorted, NUL-joined. */
export function canonXDuoHeaders(headers: Readonly<Record<string, string>>): string {
  const picked = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .filter(([name]) => name.startsWith('x-duo'));
  picked.sort((a, b) => byteOrder(a[0], b[0]));
  return picked.flat().join('\0');
}

export interface CanonRequest {
  /** RFC 2822 date exactly as sent in `Date` or `X-Duo-Date`. */
  date: string;
  method: string;
  host: string;
  /** URI path only, no query. */
  path: string;
  params: DuoParams;
}

/** v2: date, METHOD, host, path, params (query or form body). */
export function canonicalV2(r: CanonRequest): string {
  return [r.date, r.method.toUpperCase(), r.host.toLowerCase(), r.path, canonParams(r.params)].join('\n');
}

/** v5 adds the SHA-512 hex of the exact body bytes and of canonXDuoHeaders (callers hash; this stays sync). */
export function canonicalV5(r: CanonRequest & { bodySha512: string; headersSha512: string }): string {
  return [canonicalV2(r), r.bodySha512, r.headersSha512].join('\n');
}
