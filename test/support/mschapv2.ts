import { createCipheriv, createHash } from 'node:crypto';

/**
 * The peer (client) side of MS-CHAPv2 (RFC 2759) and the MPPE key derivation (RFC 3079), to drive
 * an upstream RADIUS server the way a VPN client behind a NAS would. OpenSSL 3 leaves MD4 and
 * single DES in its legacy provider, so MD4 is implemented here and DES runs as 3DES-EDE with the
 * same key three times (which is DES).
 */

export function md4(input: Uint8Array): Uint8Array {
  const bitLength = input.length * 8;
  const padded = new Uint8Array(Math.ceil((input.length + 9) / 64) * 64);
  padded.set(input);
  padded[input.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, bitLength >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bitLength / 2 ** 32), true);
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const rotl = (x: number, s: number) => (x << s) | (x >>> (32 - s));
  const x = new Uint32Array(16);
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(block + i * 4, true);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const f = (p: number, q: number, r: number) => (p & q) | (~p & r);
    const g = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
    const h = (p: number, q: number, r: number) => p ^ q ^ r;
    const rounds: Array<[typeof f, number, number[], number[]]> = [
      [f, 0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [3, 7, 11, 19]],
      [g, 0x5a827999, [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], [3, 5, 9, 13]],
      [h, 0x6ed9eba1, [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15], [3, 9, 11, 15]],
    ];
    for (const [fn, k, order, shifts] of rounds) {
      for (let i = 0; i < 16; i++) {
        const t = rotl((a + fn(b, c, d) + x[order[i]!]! + k) | 0, shifts[i % 4]!);
        [a, b, c, d] = [d, t, b, c];
      }
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  for (const [i, word] of [a, b, c, d].entries()) outView.setUint32(i * 4, word >>> 0, true);
  return out;
}

const sha1 = (...parts: Uint8Array[]) => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const ascii = (s: string) => new TextEncoder().encode(s);

/** RFC 2759 §8.3 NtPasswordHash: MD4 of the UTF-16LE password. */
export function ntPasswordHash(password: string): Uint8Array {
  return md4(new Uint8Array(Buffer.from(password, 'utf16le')));
}

/** RFC 2759 §8.2 ChallengeHash; the user name is without any domain prefix. */
export function challengeHash(
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: string,
): Uint8Array {
  const bare = userName.includes('\\') ? userName.slice(userName.lastIndexOf('\\') + 1) : userName;
  return sha1(peerChallenge, authenticatorChallenge, ascii(bare)).slice(0, 8);
}

/** RFC 2759 §8.6 DesEncrypt: the 7-octet key is spread over 8 octets (parity bits unused). */
function desEncrypt(clear: Uint8Array, key7: Uint8Array): Uint8Array {
  const k = new Uint8Array(8);
  k[0] = key7[0]!;
  for (let i = 1; i < 7; i++) k[i] = ((key7[i - 1]! << (8 - i)) | (key7[i]! >> i)) & 0xff;
  k[7] = (key7[6]! << 1) & 0xff;
  const triple = new Uint8Array(24);
  triple.set(k, 0);
  triple.set(k, 8);
  triple.set(k, 16);
  const cipher = createCipheriv('des-ede3-ecb', triple, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(clear), cipher.final()]));
}

/** RFC 2759 §8.5 ChallengeResponse. */
export function challengeResponse(challenge: Uint8Array, passwordHash: Uint8Array): Uint8Array {
  const z = new Uint8Array(21);
  z.set(passwordHash);
  const out = new Uint8Array(24);
  for (let i = 0; i < 3; i++) out.set(desEncrypt(challenge, z.subarray(i * 7, i * 7 + 7)), i * 8);
  return out;
}

/** RFC 2759 §8.1 GenerateNTResponse. */
export function generateNtResponse(
  authenticatorChallenge: Uint8Array,
  peerChallenge: Uint8Array,
  userName: string,
  password: string,
): Uint8Array {
  return challengeResponse(challengeHash(peerChallenge, authenticatorChallenge, userName), ntPasswordHash(password));
}

const MAGIC1 = ascii('Magic server to client signing constant');
const MAGIC2 = ascii('Pad to make it do more than one iteration');

/** RFC 2759 §8.7 GenerateAuthenticatorResponse: the `S=<40 hex>` the server proves itself with. */
export function generateAuthenticatorResponse(
  password: string,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: string,
): string {
  const hashHash = md4(ntPasswordHash(password));
  const digest = sha1(hashHash, ntResponse, MAGIC1);
  const final = sha1(digest, challengeHash(peerChallenge, authenticatorChallenge, userName), MAGIC2);
  return `S=${Buffer.from(final).toString('hex').toUpperCase()}`;
}

const MPPE_MAGIC1 = ascii('This is the MPPE Master Key');
const MPPE_MAGIC2 = ascii('On the client side, this is the send key; on the server side, it is the receive key.');
const MPPE_MAGIC3 = ascii('On the client side, this is the receive key; on the server side, it is the send key.');
const SHS_PAD1 = new Uint8Array(40);
const SHS_PAD2 = new Uint8Array(40).fill(0xf2);

/** RFC 3079 §3.4 GetMasterKey. */
export function mppeMasterKey(password: string, ntResponse: Uint8Array): Uint8Array {
  return sha1(md4(ntPasswordHash(password)), ntResponse, MPPE_MAGIC1).slice(0, 16);
}

/** RFC 3079 §3.4 GetAsymmetricStartKey, 128-bit keys. */
export function mppeStartKey(masterKey: Uint8Array, isSend: boolean, isServer: boolean): Uint8Array {
  const magic = isSend === isServer ? MPPE_MAGIC3 : MPPE_MAGIC2;
  return sha1(masterKey, SHS_PAD1, magic, SHS_PAD2).slice(0, 16);
}

/**
 * The keys a NAS gets in MS-MPPE-Send-Key / MS-MPPE-Recv-Key: the server-side send and receive
 * keys (RFC 2548 §2.4.2: Send-Key encrypts NAS → peer traffic).
 */
export function expectedMppeKeys(password: string, ntResponse: Uint8Array): { send: Uint8Array; recv: Uint8Array } {
  const master = mppeMasterKey(password, ntResponse);
  return { send: mppeStartKey(master, true, true), recv: mppeStartKey(master, false, true) };
}

/** RFC 2548 §2.3.2 MS-CHAP2-Response value: Ident, Flags, Peer-Challenge, 8 reserved, NT-Response. */
export function msChap2ResponseValue(ident: number, peerChallenge: Uint8Array, ntResponse: Uint8Array): Uint8Array {
  const out = new Uint8Array(50);
  out[0] = ident;
  out[1] = 0;
  out.set(peerChallenge, 2);
  out.set(ntResponse, 26);
  return out;
}
