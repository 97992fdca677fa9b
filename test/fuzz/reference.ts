import { createHash, createHmac } from 'node:crypto';

/**
 * The fuzz oracle's own RADIUS reading, written apart from local-relay/src/radius on purpose: the
 * checks below must not share a bug with the code under test. Straight from the RFC text, built
 * on node:crypto's createHash/createHmac (the codec uses its own one-shot HMAC construction).
 */

export const ACCESS_REQUEST = 1;
export const ACCESS_ACCEPT = 2;
export const ACCESS_REJECT = 3;
export const ACCESS_CHALLENGE = 11;
export const STATUS_SERVER = 12;
export const USER_NAME = 1;
export const USER_PASSWORD = 2;
export const STATE = 24;
export const PROXY_STATE = 33;
export const EAP_MESSAGE = 79;
export const MESSAGE_AUTHENTICATOR = 80;

export interface RefAttribute {
  type: number;
  /** Offset of the Type octet in the packet. */
  offset: number;
  value: Uint8Array;
}

export interface RefPacket {
  code: number;
  identifier: number;
  length: number;
  authenticator: Uint8Array;
  attributes: RefAttribute[];
  /** The datagram cut to Length. */
  bytes: Uint8Array;
}

/**
 * RFC 2865 §3 and §5, RFC 3579 §3.2: 20 ≤ Length ≤ 4096 and no longer than the datagram; every
 * attribute 2..255 octets inside Length and the last one ending exactly at Length; at most one
 * Message-Authenticator and only of Length 18. Undefined for anything else.
 */
export function refParse(datagram: Uint8Array): RefPacket | undefined {
  if (datagram.length < 20) return undefined;
  const length = datagram[2]! * 256 + datagram[3]!;
  if (length < 20 || length > 4096 || length > datagram.length) return undefined;
  const bytes = Uint8Array.from(datagram.subarray(0, length));
  const attributes: RefAttribute[] = [];
  let at = 20;
  let mas = 0;
  while (at < length) {
    if (length - at < 2) return undefined;
    const type = bytes[at]!;
    const len = bytes[at + 1]!;
    if (len < 2 || at + len > length) return undefined;
    if (type === MESSAGE_AUTHENTICATOR && (len !== 18 || ++mas > 1)) return undefined;
    attributes.push({ type, offset: at, value: bytes.slice(at + 2, at + len) });
    at += len;
  }
  return {
    code: bytes[0]!,
    identifier: bytes[1]!,
    length,
    authenticator: bytes.slice(4, 20),
    attributes,
    bytes,
  };
}

export const first = (p: RefPacket, type: number): Uint8Array | undefined =>
  p.attributes.find((a) => a.type === type)?.value;

export const all = (p: RefPacket, type: number): Uint8Array[] =>
  p.attributes.filter((a) => a.type === type).map((a) => a.value);

/**
 * Access-Requests a server must discard whatever its client settings: more than one User-Name,
 * User-Password or State (RFC 2865 §5.44 table: 0-1 each), or an EAP-Message without
 * Message-Authenticator (RFC 3579 §3.2).
 */
export function refMustDiscard(p: RefPacket): boolean {
  if (p.code !== ACCESS_REQUEST) return false;
  if ([USER_NAME, USER_PASSWORD, STATE].some((t) => all(p, t).length > 1)) return true;
  return first(p, EAP_MESSAGE) !== undefined && first(p, MESSAGE_AUTHENTICATOR) === undefined;
}

/** HMAC-MD5 over the packet with the MA value zeroed and `headerAuth` in the Authenticator field. */
export function refMessageAuthenticator(p: RefPacket, secret: Uint8Array, headerAuth?: Uint8Array): Uint8Array {
  const ma = p.attributes.find((a) => a.type === MESSAGE_AUTHENTICATOR);
  if (!ma) throw new Error('refMessageAuthenticator: no Message-Authenticator');
  const copy = Uint8Array.from(p.bytes);
  copy.fill(0, ma.offset + 2, ma.offset + 18);
  if (headerAuth) copy.set(headerAuth, 4);
  return new Uint8Array(createHmac('md5', secret).update(copy).digest());
}

export function refCheckMessageAuthenticator(
  p: RefPacket,
  secret: Uint8Array,
  headerAuth?: Uint8Array,
): 'valid' | 'invalid' | 'missing' {
  const ma = p.attributes.find((a) => a.type === MESSAGE_AUTHENTICATOR);
  if (!ma) return 'missing';
  return equal(refMessageAuthenticator(p, secret, headerAuth), ma.value) ? 'valid' : 'invalid';
}

/** Writes a correct Message-Authenticator into `datagram` (in place), as a client holding the secret would. */
export function refSign(datagram: Uint8Array, secret: Uint8Array): boolean {
  const p = refParse(datagram);
  const ma = p?.attributes.find((a) => a.type === MESSAGE_AUTHENTICATOR);
  if (!p || !ma) return false;
  datagram.set(refMessageAuthenticator(p, secret), ma.offset + 2);
  return true;
}

/** RFC 2865 §3: MD5(Code+ID+Length+RequestAuth+Attributes+Secret). */
export function refResponseAuthenticatorOk(reply: RefPacket, requestAuth: Uint8Array, secret: Uint8Array): boolean {
  const h = createHash('md5')
    .update(reply.bytes.subarray(0, 4))
    .update(requestAuth)
    .update(reply.bytes.subarray(20))
    .update(secret)
    .digest();
  return equal(new Uint8Array(h), reply.authenticator);
}

/** RFC 2865 §5.2 in reverse; undefined unless 16..128 octets in whole blocks. Trailing NULs stripped. */
export function refUnhide(hidden: Uint8Array, secret: Uint8Array, requestAuth: Uint8Array): Uint8Array | undefined {
  if (hidden.length < 16 || hidden.length > 128 || hidden.length % 16 !== 0) return undefined;
  const out = new Uint8Array(hidden.length);
  let prev = requestAuth;
  for (let i = 0; i < hidden.length; i += 16) {
    const b = createHash('md5').update(secret).update(prev).digest();
    for (let j = 0; j < 16; j++) out[i + j] = hidden[i + j]! ^ b[j]!;
    prev = hidden.subarray(i, i + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
