import { isIPv4 } from 'node:net';
import type { RadiusAttribute } from './packet.ts';

/** Value codecs for the attribute data types of RFC 2865 §5 (text, address). */

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as a character: stripping it would let two different byte
// strings (with and without a BOM) become the same User-Name or password (found by the fuzzer).
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function textAttribute(type: number, text: string): RadiusAttribute {
  return { type, value: utf8.encode(text) };
}

/** Returns undefined unless `ip` is a dotted IPv4 address. */
export function ipv4Attribute(type: number, ip: string): RadiusAttribute | undefined {
  if (!isIPv4(ip)) return undefined;
  return { type, value: Uint8Array.from(ip.split('.').map(Number)) };
}

/** Invalid UTF-8 becomes U+FFFD: for display-only text such as Reply-Message or User-Name. */
export function decodeText(value: Uint8Array): string {
  return lenient.decode(value);
}

/**
 * For secrets: distinct byte strings must never collapse to the same string, so invalid UTF-8 is
 * refused rather than replaced.
 */
export function decodeTextStrict(value: Uint8Array): string | undefined {
  try {
    return strict.decode(value);
  } catch {
    return undefined;
  }
}

export function decodeIpv4(value: Uint8Array): string | undefined {
  if (value.length !== 4) return undefined;
  return `${value[0]}.${value[1]}.${value[2]}.${value[3]}`;
}

/**
 * Splits a long text into as many attributes of `type` as needed (RFC 2865 §5.18 allows several
 * Reply-Messages, concatenated by the NAS). Splits on UTF-8 character boundaries.
 */
export function splitTextAttributes(type: number, text: string, chunk = 253): RadiusAttribute[] {
  const bytes = utf8.encode(text);
  const out: RadiusAttribute[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + chunk, bytes.length);
    // Back off continuation bytes (10xxxxxx) so no code point is cut in half.
    while (end < bytes.length && end > start + 1 && (bytes[end]! & 0xc0) === 0x80) end--;
    out.push({ type, value: bytes.slice(start, end) });
    start = end;
  }
  return out;
}
