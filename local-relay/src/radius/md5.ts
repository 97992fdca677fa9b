import { hash } from 'node:crypto';

/**
 * MD5 and HMAC-MD5 (RFC 2104) over small RADIUS packets with one-shot `crypto.hash`. Creating a
 * Hash/Hmac object per packet costs several times the hashing itself under OpenSSL 3, and the
 * packet path runs these on every datagram (including floods of forged ones). The HMAC
 * construction is checked against `createHmac` by a property test.
 */

const BLOCK = 64;

export function md5(...parts: Uint8Array[]): Uint8Array {
  const digest = hash('md5', parts.length === 1 ? parts[0]! : concat(parts), 'buffer');
  // A plain Uint8Array, like every other value the codec hands out.
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}

interface Pads {
  inner: Uint8Array;
  outer: Uint8Array;
}

// Secrets are long-lived per client: derive the padded keys once per secret object.
const padCache = new WeakMap<Uint8Array, Pads>();

function pads(key: Uint8Array): Pads {
  const cached = padCache.get(key);
  if (cached) return cached;
  const k = key.length > BLOCK ? md5(key) : key;
  const inner = new Uint8Array(BLOCK).fill(0x36);
  const outer = new Uint8Array(BLOCK).fill(0x5c);
  for (let i = 0; i < k.length; i++) {
    inner[i] = inner[i]! ^ k[i]!;
    outer[i] = outer[i]! ^ k[i]!;
  }
  const p = { inner, outer };
  padCache.set(key, p);
  return p;
}

export function hmacMd5(key: Uint8Array, ...message: Uint8Array[]): Uint8Array {
  const { inner, outer } = pads(key);
  return md5(outer, md5(inner, ...message));
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  // Pooled and not zero-filled: every byte is overwritten below and the buffer never escapes.
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
