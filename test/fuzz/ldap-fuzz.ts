import { MessageFramer } from '../../local-relay/src/ldap/framing.ts';
import { decodeBindRequest, decodeEnvelope } from '../../local-relay/src/ldap/message.ts';
import { refDecodeMessage, refFrames } from './ldap-reference.ts';
import { type Fail, type FuzzBound, fuzzLoop, type Violation } from './loop.ts';
import { Prng } from './prng.ts';

/**
 * LDAP BER decoder fuzz: mutants of real client messages (as OpenLDAP's liblber and ldapts encode
 * them) through the relay's framer, envelope and BindRequest decoders, checked against the
 * independent reading in ldap-reference.ts. Violations: a throw, a framing that depends on how
 * the bytes were chunked or differs from the oracle's, and an accept/reject or decoded field that
 * differs from the oracle's. Deterministic in (seed, index).
 */

export const LDAP_FUZZ_MAX_BYTES = 4096;
export const LDAP_FUZZ_MAX_DEPTH = 8;

export interface LdapCodec {
  decodeEnvelope: typeof decodeEnvelope;
  decodeBindRequest: typeof decodeBindRequest;
}

export interface LdapFuzzReport {
  seed: number;
  mutants: number;
  seconds: number;
  framed: number;
  decoded: number;
  binds: number;
  errors: Record<string, number>;
  violationCount: number;
  violations: Violation[];
}

const hexes = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** Seeds: captured from ldapwhoami/ldapsearch (0x84 long lengths) and encoded the minimal way. */
export const LDAP_SEEDS: ReadonlyArray<Uint8Array> = [
  // simple bind, minimal lengths: id 1, cn=a, password "pw"
  hexes('3012 020101 600d 020103 0404 636e3d61 8002 7077'),
  // liblber style: 0x84 lengths on the SEQUENCE and the op
  hexes('3084 00000016 020102 6084 0000000d 020103 0404 636e3d61 8002 7077'),
  // SASL bind (EXTERNAL)
  hexes('3016 020103 6011 020103 0400 a30a 0408 45585445524e414c'),
  // search base "", scope base, filter (objectClass=*), attrs [], with a paged-results control
  hexes(
    '3047 020104 6320 0400 0a0100 0a0100 020100 020100 010100 870b 6f626a656374436c617373 3000' +
      'a020 301e 0416 312e322e3834302e3131333535362e312e342e333139 0404 3002 0200',
  ),
  // search with a nested filter (&(|(a=b)(c=d))(!(e=f)))
  hexes(
    '3038 020105 6333 0400 0a0102 0a0100 020100 020100 010100 a01b a10c a305 0401 61 0401 62 a303 0401 63 0401 64' +
      'a207 a305 0401 65 0401 66 3000',
  ),
  // StartTLS extended request
  hexes('301d 020106 7718 8016 312e332e362e312e342e312e313436362e3230303337'),
  // unbind, abandon
  hexes('3005 020107 4200'),
  hexes('3006 020108 500104'),
  // message ID needing a leading zero (0x80) and a large one
  hexes('3008 02020080 4200 0000'.replace('0000', '')),
  hexes('3009 02047fffffff 4200'),
];

type Mutator = (b: Uint8Array, rng: Prng) => Uint8Array;

const MUTATORS: Record<string, Mutator> = {
  flip_bit: (b, rng) => {
    const out = Uint8Array.from(b);
    if (out.length) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  set_byte: (b, rng) => {
    const out = Uint8Array.from(b);
    if (out.length) out[rng.int(out.length)] = rng.pick([0x00, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff, 0x30, 0x1f, 0xa0]);
    return out;
  },
  truncate: (b, rng) => b.slice(0, rng.int(b.length + 1)),
  insert: (b, rng) => {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at)]);
  },
  delete: (b, rng) => {
    const at = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 4)))]);
  },
  splice: (b, rng) => {
    const other = rng.pick(LDAP_SEEDS);
    return Buffer.concat([b.subarray(0, rng.int(b.length + 1)), other.subarray(rng.int(other.length + 1))]);
  },
  nest: (b, rng) => {
    // Wrap the operation in extra constructed layers, fixing the outer lengths: depth bound checks.
    let inner = b.subarray(Math.min(b.length, 5));
    for (let i = rng.range(1, 12); i > 0; i--)
      inner = Buffer.concat([Uint8Array.of(0xa0, 0x84), u32(inner.length), inner]);
    const body = Buffer.concat([Uint8Array.of(0x02, 0x01, 0x09), inner]);
    return Buffer.concat([Uint8Array.of(0x30, 0x84), u32(body.length), body]);
  },
  long_length: (b, rng) => {
    // Re-encode the outer length with 1..5 octets (5 is one too many).
    if (b.length < 2 || b[1]! >= 0x80) return b;
    const n = rng.range(1, 5);
    const len = new Uint8Array(n);
    len[n - 1] = b[1]!;
    return Buffer.concat([Uint8Array.of(b[0]!, 0x80 | n), len, b.subarray(2)]);
  },
  concat_two: (b, rng) => Buffer.concat([b, rng.pick(LDAP_SEEDS)]),
};
export const LDAP_MUTATOR_NAMES = Object.keys(MUTATORS);

function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function generateLdapMutant(seed: number, index: number): { bytes: Uint8Array; ops: string[] } {
  const rng = new Prng(seed, index, 0x1da9);
  let bytes: Uint8Array = rng.pick(LDAP_SEEDS);
  const ops: string[] = [];
  for (let n = rng.range(0, 3); n > 0; n--) {
    const op = rng.pick(LDAP_MUTATOR_NAMES);
    ops.push(op);
    bytes = MUTATORS[op]!(bytes, rng);
  }
  return { bytes, ops };
}

export function runLdapFuzz(opts: FuzzBound & { codec?: LdapCodec }): LdapFuzzReport {
  const codec = opts.codec ?? { decodeEnvelope, decodeBindRequest };
  const report: LdapFuzzReport = {
    seed: opts.seed,
    mutants: 0,
    seconds: 0,
    framed: 0,
    decoded: 0,
    binds: 0,
    errors: {},
    violationCount: 0,
    violations: [],
  };
  fuzzLoop(
    opts,
    report,
    (index) => generateLdapMutant(opts.seed, index),
    (m, index, fail) => checkOne(m.bytes, new Prng(opts.seed, index, 7), codec, report, fail),
  );
  return report;
}

function checkOne(bytes: Uint8Array, rng: Prng, codec: LdapCodec, report: LdapFuzzReport, fail: Fail): void {
  const ref = refFrames(bytes, LDAP_FUZZ_MAX_BYTES);
  // The same bytes whole and in random chunks must frame the same way, and as the oracle does.
  const whole = frame(bytes, [bytes.length]);
  const cuts = Array.from({ length: rng.range(1, 4) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  const chunked = frame(bytes, [...cuts, bytes.length]);
  const sizes = (r: ReturnType<typeof frame>) => r.frames.map((f) => f.length).join(',');
  if (whole.error !== ref.error || (!ref.error && sizes(whole) !== ref.sizes.join(','))) {
    fail('framing_differs_from_oracle', `framer ${sizes(whole)}${whole.error ? ' error' : ''}, oracle ${ref.sizes}`);
  }
  // On an error the connection closes: which complete messages came out first is not compared.
  if (whole.error !== chunked.error || (!whole.error && sizes(whole) !== sizes(chunked))) {
    fail('framing_depends_on_chunks', sizes(chunked));
  }
  if (whole.error) report.errors.framing = (report.errors.framing ?? 0) + 1;

  for (const msg of whole.frames) {
    report.framed++;
    const env = codec.decodeEnvelope(msg, LDAP_FUZZ_MAX_DEPTH);
    const expected = refDecodeMessage(msg, LDAP_FUZZ_MAX_DEPTH);
    if (!env.ok) {
      report.errors[env.error] = (report.errors[env.error] ?? 0) + 1;
      if (expected) fail('rejects_valid_message', env.error);
      continue;
    }
    report.decoded++;
    if (!expected) {
      fail('accepts_invalid_message', `id ${env.value.messageId}`);
      continue;
    }
    if (
      env.value.messageId !== expected.messageId ||
      env.value.opTag !== expected.opTag ||
      (env.value.controls !== undefined) !== expected.hasControls
    ) {
      fail('envelope_mismatch', `${env.value.messageId}/${env.value.opTag} vs ${expected.messageId}/${expected.opTag}`);
    }
    if (env.value.opTag !== 0x60) continue;
    const bind = codec.decodeBindRequest(msg, env.value);
    if (bind.ok !== (expected.bind !== undefined)) {
      fail('bind_acceptance_mismatch', bind.ok ? 'codec accepted' : bind.error);
      continue;
    }
    if (!bind.ok || !expected.bind) continue;
    report.binds++;
    const password = bind.value.auth.kind === 'simple' ? bind.value.auth.password : undefined;
    if (
      !Buffer.from(bind.value.name).equals(expected.bind.name) ||
      (password === undefined) !== (expected.bind.simplePassword === undefined) ||
      (password && !Buffer.from(password).equals(expected.bind.simplePassword!))
    ) {
      fail('bind_field_mismatch', 'name or password differs from the oracle');
    }
  }
}

function frame(bytes: Uint8Array, ends: number[]): { frames: Uint8Array[]; error: boolean } {
  const framer = new MessageFramer(LDAP_FUZZ_MAX_BYTES);
  const frames: Uint8Array[] = [];
  let from = 0;
  for (const end of ends) {
    if (end < from) continue;
    const r = framer.push(bytes.subarray(from, end));
    from = end;
    if (!r.ok) return { frames, error: true };
    frames.push(...r.value);
  }
  return { frames, error: false };
}
