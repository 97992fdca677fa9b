import { type FuzzTarget, seedPacket } from './corpus.ts';
import { Prng } from './prng.ts';
import { MESSAGE_AUTHENTICATOR, PROXY_STATE, refSign, USER_NAME, USER_PASSWORD } from './reference.ts';

/**
 * Mutation fuzzer for Access-Requests. `generateMutant(seed, index)` is deterministic: a failure
 * reported as (seed, index) is rebuilt byte for byte. Each mutant is a valid signed seed packet
 * with 1–3 mutations stacked, then (sometimes) the Length field fixed up and the
 * Message-Authenticator re-signed, so that part of the mutants get past the packet checks and
 * exercise attribute handling, password unhiding and the login flow, as a client holding the
 * secret could.
 */

export interface Mutant {
  bytes: Uint8Array;
  /** Names of the mutations applied, in order (for reports and per-operator counts). */
  ops: string[];
}

type Mutator = (b: Uint8Array, rng: Prng, ctx: MutationContext) => Uint8Array;

interface MutationContext {
  /** A second valid packet, for splices. */
  other: () => Uint8Array;
}

const MAX_DATAGRAM = 8192;

/** Octet offsets of the attributes a lenient walk finds (stops at the first impossible one). */
export function attributeOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  let at = 20;
  while (at + 2 <= b.length && b[at + 1]! >= 2) {
    out.push(at);
    at += b[at + 1]!;
  }
  return out;
}

const lengthField = (b: Uint8Array): number => ((b[2] ?? 0) << 8) | (b[3] ?? 0);

function withLength(b: Uint8Array, n: number): Uint8Array {
  if (b.length < 4) return b;
  const out = Uint8Array.from(b);
  out[2] = (n >> 8) & 0xff;
  out[3] = n & 0xff;
  return out;
}

/** Sets Length to the datagram size (capped to 16 bits): what a careless re-encoder would do. */
export const fixLength = (b: Uint8Array): Uint8Array => withLength(b, Math.min(b.length, 0xffff));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out.length > MAX_DATAGRAM ? out.subarray(0, MAX_DATAGRAM) : out;
}

function tlv(type: number, value: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(type, Math.min(255, value.length + 2)), value.subarray(0, 253));
}

/** Inserts an attribute at a random attribute boundary and fixes Length. */
function insertAttribute(b: Uint8Array, rng: Prng, attr: Uint8Array): Uint8Array {
  const bounds = [...attributeOffsets(b), b.length].filter((o) => o >= 20);
  const at = bounds.length ? rng.pick(bounds) : b.length;
  return fixLength(concat(b.subarray(0, at), attr, b.subarray(at)));
}

function copyOf(b: Uint8Array, type: number): Uint8Array | undefined {
  const at = attributeOffsets(b).find((o) => b[o] === type);
  return at === undefined ? undefined : b.slice(at, at + b[at + 1]!);
}

const INTERESTING = [0x00, 0x01, 0x02, 0x10, 0x11, 0x12, 0x13, 0x14, 0x7f, 0x80, 0xfe, 0xff];

const MUTATORS: Record<string, Mutator> = {
  bitflip(b, rng) {
    const out = Uint8Array.from(b);
    for (let n = rng.range(1, 8); n > 0 && out.length; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  byte(b, rng) {
    const out = Uint8Array.from(b);
    if (out.length) out[rng.int(out.length)] = rng.chance(0.7) ? rng.pick(INTERESTING) : rng.int(256);
    return out;
  },
  insert(b, rng) {
    const at = rng.int(b.length + 1);
    return concat(b.subarray(0, at), rng.bytes(rng.range(1, 16)), b.subarray(at));
  },
  delete(b, rng) {
    const at = rng.int(b.length);
    return concat(b.subarray(0, at), b.subarray(at + rng.range(1, 16)));
  },
  'length-lie'(b, rng) {
    const n = b.length;
    return withLength(b, rng.pick([0, 1, 19, 20, 21, n - 1, n + 1, n + rng.range(2, 300), 4095, 4096, 4097, 0xffff]));
  },
  'attr-length-lie'(b, rng) {
    const offsets = attributeOffsets(b);
    if (!offsets.length) return b;
    const at = rng.pick(offsets);
    const out = Uint8Array.from(b);
    const toEnd = lengthField(b) - at;
    out[at + 1] = rng.pick([0, 1, 2, 3, 17, 19, 255, toEnd, toEnd + 1, toEnd - 1, rng.int(256)]) & 0xff;
    return out;
  },
  truncate(b, rng) {
    const bounds = [1, 2, 3, 4, 19, 20, ...attributeOffsets(b).flatMap((o) => [o, o + 1, o + 2, o + 3])];
    const cut = rng.chance(0.8) ? rng.pick(bounds) : rng.int(b.length);
    const out = b.slice(0, Math.min(cut, b.length));
    return rng.chance(0.5) ? fixLength(out) : out;
  },
  'dup-ma'(b, rng) {
    const ma = copyOf(b, MESSAGE_AUTHENTICATOR) ?? tlv(MESSAGE_AUTHENTICATOR, new Uint8Array(16));
    return insertAttribute(b, rng, ma);
  },
  'dup-password'(b, rng) {
    const pw = copyOf(b, USER_PASSWORD) ?? tlv(USER_PASSWORD, rng.bytes(16));
    return insertAttribute(b, rng, rng.chance(0.5) ? pw : tlv(USER_PASSWORD, rng.bytes(16 * rng.range(1, 8))));
  },
  'dup-username'(b, rng) {
    return insertAttribute(b, rng, tlv(USER_NAME, rng.chance(0.5) ? new TextEncoder().encode('root') : rng.bytes(8)));
  },
  'dup-attr'(b, rng) {
    const offsets = attributeOffsets(b);
    if (!offsets.length) return b;
    const at = rng.pick(offsets);
    return insertAttribute(b, rng, b.slice(at, at + b[at + 1]!));
  },
  'drop-attr'(b, rng) {
    const offsets = attributeOffsets(b);
    const targets = rng.chance(0.5) ? offsets.filter((o) => b[o] === MESSAGE_AUTHENTICATOR) : offsets;
    if (!targets.length) return b;
    const at = rng.pick(targets);
    return fixLength(concat(b.subarray(0, at), b.subarray(at + b[at + 1]!)));
  },
  'ma-length'(b, rng) {
    return insertAttribute(b, rng, tlv(MESSAGE_AUTHENTICATOR, rng.bytes(rng.pick([0, 1, 15, 17, 32, 253]))));
  },
  'zero-length-value'(b, rng) {
    return insertAttribute(b, rng, Uint8Array.of(rng.pick([USER_NAME, USER_PASSWORD, PROXY_STATE, 24, 26, 79]), 2));
  },
  'oversize-attr'(b, rng) {
    let out = b;
    for (let n = rng.range(1, 20); n > 0; n--) out = insertAttribute(out, rng, tlv(rng.int(256), rng.bytes(253)));
    if (rng.chance(0.3)) out = withLength(out, Math.min(4096, out.length));
    return out;
  },
  'proxy-state-flood'(b, rng) {
    const goal = rng.pick([1024, 4000, 4095, 4096, 4097, 4200]);
    const small = rng.chance(0.5);
    const parts: Uint8Array[] = [b];
    let size = b.length;
    while (size < goal) {
      const valueLength = Math.min(small ? 1 : rng.range(1, 253), Math.max(1, goal - size - 2));
      parts.push(tlv(PROXY_STATE, rng.bytes(valueLength)));
      size += valueLength + 2;
    }
    return fixLength(concat(...parts));
  },
  code(b, rng) {
    const out = Uint8Array.from(b);
    if (out.length) out[0] = rng.chance(0.7) ? rng.pick([0, 1, 2, 3, 4, 5, 11, 12, 13, 40, 255]) : rng.int(256);
    return out;
  },
  identifier(b, rng) {
    const out = Uint8Array.from(b);
    if (out.length > 1) out[1] = rng.int(256);
    return out;
  },
  authenticator(b, rng) {
    const out = Uint8Array.from(b);
    if (out.length >= 20) out.set(rng.bytes(16), 4);
    return out;
  },
  splice(b, rng, ctx) {
    const other = ctx.other();
    const cutA = rng.chance(0.6) ? rng.pick([20, ...attributeOffsets(b)]) : rng.int(b.length + 1);
    const cutB = rng.chance(0.6) ? rng.pick([20, ...attributeOffsets(other)]) : rng.int(other.length + 1);
    const out = concat(b.subarray(0, cutA), other.subarray(cutB));
    return rng.chance(0.6) ? fixLength(out) : out;
  },
  padding(b, rng) {
    return concat(b, rng.chance(0.5) ? rng.bytes(rng.range(1, 64)) : tlv(USER_PASSWORD, rng.bytes(16)));
  },
};

export const MUTATOR_NAMES = Object.keys(MUTATORS);

/** Mutant `index` of run `seed`. About 5% are the untouched seed packet, so accepts stay reachable. */
export function generateMutant(seed: number, index: number, target: FuzzTarget): Mutant {
  const rng = new Prng(seed, index);
  const base = seedPacket(rng, target);
  if (rng.chance(0.05)) return { bytes: base, ops: ['none'] };
  const ctx: MutationContext = { other: () => seedPacket(new Prng(seed, index, 1), target) };
  const ops: string[] = [];
  let bytes = base;
  for (let n = rng.range(1, 3); n > 0; n--) {
    const name = rng.pick(MUTATOR_NAMES);
    bytes = MUTATORS[name]!(bytes, rng, ctx);
    ops.push(name);
  }
  if (rng.chance(0.3)) {
    bytes = fixLength(bytes);
    ops.push('fix-length');
  }
  if (rng.chance(0.3)) {
    bytes = Uint8Array.from(bytes);
    if (refSign(bytes, target.secret)) ops.push('re-sign');
  }
  return { bytes, ops };
}
