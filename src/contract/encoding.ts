/** Byte helpers that behave the same in workerd and Node (no Buffer on the edge). */

const encoder = new TextEncoder();

export const utf8 = (s: string): Uint8Array<ArrayBuffer> => encoder.encode(s) as Uint8Array<ArrayBuffer>;

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const b of view) out += b.toString(16).padStart(2, '0');
  return out;
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = '';
  for (const b of view) bin += String.fromCharCode(b);
  return btoa(bin);
}

export const toBase64Url = (bytes: ArrayBuffer | Uint8Array): string =>
  toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/**
 * Longest text fromBase64Url decodes (3 KiB of bytes): far above any key, signature or cursor,
 * and small enough that no input can hold the event loop. A PEM private key is about 120.
 */
export const MAX_BASE64_CHARS = 4096;

/**
 * Strict: returns null for anything that is not base64/base64url, or longer than `maxChars`. The
 * length is checked before any pattern runs, and padding is trimmed by a loop: `/=+$/` backtracks
 * quadratically on a long run of `=` that does not end the string.
 */
export function fromBase64Url(s: string, maxChars = MAX_BASE64_CHARS): Uint8Array<ArrayBuffer> | null {
  if (s.length > maxChars) return null;
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 61 /* = */) end--;
  const unpadded = s.slice(0, end);
  if (!/^[A-Za-z0-9_-]*$/.test(unpadded) && !/^[A-Za-z0-9+/]*$/.test(unpadded)) return null;
  const normal = unpadded.replace(/-/g, '+').replace(/_/g, '/');
  if (normal.length % 4 === 1) return null;
  try {
    const bin = atob(normal + '='.repeat((4 - (normal.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

export async function sha256Hex(data: Uint8Array<ArrayBuffer> | string): Promise<string> {
  const bytes = typeof data === 'string' ? utf8(data) : data;
  return toHex(await crypto.subtle.digest('SHA-256', bytes));
}
