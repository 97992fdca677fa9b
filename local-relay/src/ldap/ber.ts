import { err, ok, type Result } from '@duo-edge/contract/result';

/**
 * A strict reader for the BER subset LDAP uses (RFC 4511 section 5.1): single-byte identifiers
 * (tag numbers 0..30), definite lengths only, a long-form length of at most four bytes. Every
 * length is checked against its enclosing element before anything is read, and constructed
 * elements are walked to a bounded depth, so no input can make the reader allocate, recurse or
 * loop beyond those bounds.
 */

export type BerError =
  | 'truncated'
  | 'indefinite_length'
  | 'length_too_long'
  | 'high_tag_number'
  | 'too_deep'
  | 'trailing_bytes'
  | 'bad_integer'
  | 'unexpected_tag'
  | 'too_large';

/** One element: identifier octet, where its content starts and where the element ends. */
export interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

export const CONSTRUCTED = 0x20;
/** Longest long-form length accepted: four bytes (OpenLDAP's liblber writes 0x84 forms). */
const MAX_LENGTH_BYTES = 4;

/** Identifier and length of the element at `offset`; `truncated` when `limit` cuts the header. */
export function readHeader(
  buf: Uint8Array,
  offset: number,
  limit: number,
): Result<{ tag: number; contentStart: number; length: number }, BerError> {
  const end = Math.min(limit, buf.length);
  if (offset >= end) return err('truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) return err('high_tag_number');
  if (offset + 1 >= end) return err('truncated');
  const first = buf[offset + 1]!;
  if (first < 0x80) return ok({ tag, contentStart: offset + 2, length: first });
  const n = first & 0x7f;
  if (n === 0) return err('indefinite_length');
  if (n > MAX_LENGTH_BYTES) return err('length_too_long');
  if (offset + 2 + n > end) return err('truncated');
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!;
  return ok({ tag, contentStart: offset + 2 + n, length });
}

/**
 * The element at `offset`, which must end at or before `limit`. `truncated` means the bytes up to
 * `limit` do not hold the whole header or content (for a stream: more bytes may complete it).
 */
export function readTlv(buf: Uint8Array, offset: number, limit: number): Result<Tlv, BerError> {
  const h = readHeader(buf, offset, limit);
  if (!h.ok) return h;
  const end = h.value.contentStart + h.value.length;
  if (end > Math.min(limit, buf.length)) return err('truncated');
  return ok({ tag: h.value.tag, start: offset, contentStart: h.value.contentStart, end });
}

/** The children of a constructed element, in order; each must fit, and together fill it exactly. */
export function children(buf: Uint8Array, parent: Tlv): Result<Tlv[], BerError> {
  const out: Tlv[] = [];
  let at = parent.contentStart;
  while (at < parent.end) {
    const child = readTlv(buf, at, parent.end);
    if (!child.ok) return child;
    out.push(child.value);
    at = child.value.end;
  }
  return ok(out);
}

/**
 * Checks that the element and everything nested in it is well formed, to `maxDepth` levels of
 * constructed elements. Iterative: the depth bound is the only stack.
 */
export function validateTree(buf: Uint8Array, root: Tlv, maxDepth: number): Result<void, BerError> {
  const stack: Array<{ at: number; end: number }> = [];
  if (root.tag & CONSTRUCTED) stack.push({ at: root.contentStart, end: root.end });
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.at >= top.end) {
      stack.pop();
      continue;
    }
    const child = readTlv(buf, top.at, top.end);
    if (!child.ok) return child;
    top.at = child.value.end;
    if (child.value.tag & CONSTRUCTED) {
      if (stack.length >= maxDepth) return err('too_deep');
      stack.push({ at: child.value.contentStart, end: child.value.end });
    }
  }
  return ok(undefined);
}

/**
 * A non-negative INTEGER or ENUMERATED up to 2^31-1 (LDAP's MessageID and result codes), in the
 * minimal two's-complement form BER requires.
 */
export function readSmallUint(buf: Uint8Array, t: Tlv): Result<number, BerError> {
  const n = t.end - t.contentStart;
  if (n < 1 || n > 5) return err('bad_integer');
  const first = buf[t.contentStart]!;
  if (first & 0x80) return err('bad_integer');
  // A leading zero byte is only allowed to keep the next byte's high bit from reading as a sign.
  if (n > 1 && first === 0 && !(buf[t.contentStart + 1]! & 0x80)) return err('bad_integer');
  let v = 0;
  for (let i = t.contentStart; i < t.end; i++) v = v * 256 + buf[i]!;
  if (v > 0x7fffffff) return err('bad_integer');
  return ok(v);
}

export function content(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.contentStart, t.end);
}

// ---- encoding --------------------------------------------------------------------------------

/** Definite length in the shortest form. */
function encodeLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const header = [tag, ...encodeLength(length)];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  let at = header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Minimal two's-complement form of a non-negative integer. */
export function uintBytes(v: number): Uint8Array {
  const bytes: number[] = [];
  let rest = v;
  do {
    bytes.unshift(rest & 0xff);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.from(bytes);
}

const utf8 = new TextEncoder();
export const octets = (tag: number, value: string | Uint8Array): Uint8Array =>
  tlv(tag, typeof value === 'string' ? utf8.encode(value) : value);
