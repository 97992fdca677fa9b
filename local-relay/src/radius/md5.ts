/**
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) for RADIUS, in plain TypeScript.
 *
 * Why not node:crypto: every RADIUS datagram needs 3 to 6 MD5s of under two blocks each, and a
 * call into OpenSSL 3 costs ~2.5 µs whatever the input size (argument checks, EVP fetch and
 * context set-up), which made hashing the largest CPU cost of the packet path after the socket
 * syscalls. The same digest computed here costs well under a microsecond. Because the HMAC key
 * (the client's shared secret) is fixed, the states after the ipad and opad blocks are computed
 * once per secret and reused: an HMAC then costs the message blocks plus one block, instead of
 * four more blocks and two OpenSSL calls.
 *
 * MD5 has no data-dependent branches or table lookups, so this is as constant-time as OpenSSL's.
 * Both functions are checked against createHash/createHmac by property tests.
 */

const BLOCK = 64;
const DIGEST = 16;
const IV = Int32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
/** T[i] = floor(2^32 × |sin(i + 1)|), RFC 1321 §3.4. */
const T = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32));

// Scratch space. Everything below runs synchronously to completion, so sharing it is safe and
// spares three typed-array allocations per digest.
const work = new Int32Array(4);
const tail = new Uint8Array(2 * BLOCK);
const innerDigest = new Uint8Array(DIGEST);

export function md5(...parts: Uint8Array[]): Uint8Array {
  work.set(IV);
  return digest(0, parts, new Uint8Array(DIGEST));
}

/** The MD5 states after absorbing the key XOR ipad and key XOR opad blocks (RFC 2104 §2). */
interface KeyedState {
  inner: Int32Array;
  outer: Int32Array;
}

// Secrets are long-lived per client and never mutated: derive the keyed states once per object.
const keyed = new WeakMap<Uint8Array, KeyedState>();

function keyedState(key: Uint8Array): KeyedState {
  const cached = keyed.get(key);
  if (cached) return cached;
  const k = key.length > BLOCK ? md5(key) : key;
  const pad = (byte: number) => {
    const block = new Uint8Array(BLOCK).fill(byte);
    for (let i = 0; i < k.length; i++) block[i] = block[i]! ^ k[i]!;
    const state = IV.slice();
    compress(state, block, 0);
    return state;
  };
  const state = { inner: pad(0x36), outer: pad(0x5c) };
  keyed.set(key, state);
  return state;
}

export function hmacMd5(key: Uint8Array, ...message: Uint8Array[]): Uint8Array {
  const { inner, outer } = keyedState(key);
  work.set(inner);
  digest(BLOCK, message, innerDigest);
  work.set(outer);
  return digest(BLOCK, [innerDigest], new Uint8Array(DIGEST));
}

/**
 * Continues the hash held in `work`, which has already absorbed `absorbed` bytes (a multiple of
 * the block size), over `parts`, pads it (RFC 1321 §3.1-3.2) and writes the digest to `out`.
 */
function digest(absorbed: number, parts: Uint8Array[], out: Uint8Array): Uint8Array {
  let filled = 0; // bytes waiting in `tail`
  let total = absorbed;
  for (const part of parts) {
    total += part.length;
    let i = 0;
    // Whole blocks straight from the input, without copying; the rest waits in `tail`. Bytes are
    // copied one by one: a subarray() per part would allocate, which costs more than the copy.
    while (i < part.length) {
      if (filled === 0 && i + BLOCK <= part.length) {
        compress(work, part, i);
        i += BLOCK;
        continue;
      }
      tail[filled++] = part[i++]!;
      if (filled === BLOCK) {
        compress(work, tail, 0);
        filled = 0;
      }
    }
  }
  // 0x80, zeros, then the bit length as 64-bit little-endian; one or two blocks.
  const end = filled < BLOCK - 8 ? BLOCK : 2 * BLOCK;
  tail[filled] = 0x80;
  tail.fill(0, filled + 1, end - 8);
  const bits = total * 8;
  writeWord(tail, end - 8, bits >>> 0);
  writeWord(tail, end - 4, Math.floor(bits / 2 ** 32));
  compress(work, tail, 0);
  if (end === 2 * BLOCK) compress(work, tail, BLOCK);
  for (let w = 0; w < 4; w++) writeWord(out, 4 * w, work[w]!);
  return out;
}

const x = new Int32Array(16);

/** One MD5 compression of the 64 bytes at `bytes[offset]` into `state` (RFC 1321 §3.4). */
function compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
  for (let w = 0, o = offset; w < 16; w++, o += 4) {
    x[w] = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  // RFC 1321 §3.4, unrolled by four so that the rotation amounts are constants. Each step is
  // a = b + ((a + F(b, c, d) + X[k] + T[i]) <<< s); at step i, round 1 reads message word i,
  // round 2 word 5i+1, round 3 word 3i+5, round 4 word 7i (mod 16).
  let t: number;
  for (let i = 0; i < 16; i += 4) {
    t = (a + ((b & c) | (~b & d)) + x[i]! + T[i]!) | 0;
    a = (b + ((t << 7) | (t >>> 25))) | 0;
    t = (d + ((a & b) | (~a & c)) + x[i + 1]! + T[i + 1]!) | 0;
    d = (a + ((t << 12) | (t >>> 20))) | 0;
    t = (c + ((d & a) | (~d & b)) + x[i + 2]! + T[i + 2]!) | 0;
    c = (d + ((t << 17) | (t >>> 15))) | 0;
    t = (b + ((c & d) | (~c & a)) + x[i + 3]! + T[i + 3]!) | 0;
    b = (c + ((t << 22) | (t >>> 10))) | 0;
  }
  for (let i = 16; i < 32; i += 4) {
    t = (a + ((b & d) | (c & ~d)) + x[(5 * i + 1) & 15]! + T[i]!) | 0;
    a = (b + ((t << 5) | (t >>> 27))) | 0;
    t = (d + ((a & c) | (b & ~c)) + x[(5 * i + 6) & 15]! + T[i + 1]!) | 0;
    d = (a + ((t << 9) | (t >>> 23))) | 0;
    t = (c + ((d & b) | (a & ~b)) + x[(5 * i + 11) & 15]! + T[i + 2]!) | 0;
    c = (d + ((t << 14) | (t >>> 18))) | 0;
    t = (b + ((c & a) | (d & ~a)) + x[(5 * i + 16) & 15]! + T[i + 3]!) | 0;
    b = (c + ((t << 20) | (t >>> 12))) | 0;
  }
  for (let i = 32; i < 48; i += 4) {
    t = (a + (b ^ c ^ d) + x[(3 * i + 5) & 15]! + T[i]!) | 0;
    a = (b + ((t << 4) | (t >>> 28))) | 0;
    t = (d + (a ^ b ^ c) + x[(3 * i + 8) & 15]! + T[i + 1]!) | 0;
    d = (a + ((t << 11) | (t >>> 21))) | 0;
    t = (c + (d ^ a ^ b) + x[(3 * i + 11) & 15]! + T[i + 2]!) | 0;
    c = (d + ((t << 16) | (t >>> 16))) | 0;
    t = (b + (c ^ d ^ a) + x[(3 * i + 14) & 15]! + T[i + 3]!) | 0;
    b = (c + ((t << 23) | (t >>> 9))) | 0;
  }
  for (let i = 48; i < 64; i += 4) {
    t = (a + (c ^ (b | ~d)) + x[(7 * i) & 15]! + T[i]!) | 0;
    a = (b + ((t << 6) | (t >>> 26))) | 0;
    t = (d + (b ^ (a | ~c)) + x[(7 * i + 7) & 15]! + T[i + 1]!) | 0;
    d = (a + ((t << 10) | (t >>> 22))) | 0;
    t = (c + (a ^ (d | ~b)) + x[(7 * i + 14) & 15]! + T[i + 2]!) | 0;
    c = (d + ((t << 15) | (t >>> 17))) | 0;
    t = (b + (d ^ (c | ~a)) + x[(7 * i + 21) & 15]! + T[i + 3]!) | 0;
    b = (c + ((t << 21) | (t >>> 11))) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word;
  out[at + 1] = word >>> 8;
  out[at + 2] = word >>> 16;
  out[at + 3] = word >>> 24;
}
