import type { Result } from '@duo-edge/contract/result';
import {
  checkMessageAuthenticator,
  type DecodedPacket,
  type DecodeError,
  decodePacket,
  encodePacket,
  unhidePassword,
} from '../../local-relay/src/radius/index.ts';
import { DEFAULT_TARGET, type FuzzTarget } from './corpus.ts';
import { type Fail, fuzzLoop, type Violation } from './loop.ts';
import { generateMutant, type Mutant } from './mutators.ts';
import { equal, hex, refCheckMessageAuthenticator, refParse, refUnhide, USER_PASSWORD } from './reference.ts';

/**
 * In-process decoder fuzz: every mutant goes through decodePacket, checkMessageAuthenticator and
 * unhidePassword. Violations: a throw, a result that is not a typed ok/error, disagreement with
 * the oracle's own parser (reference.ts), a decoded packet that does not re-encode to the input
 * up to Length, and decoded values that alias the receive buffer.
 */

export interface DecoderCodec {
  decode(datagram: Uint8Array): Result<DecodedPacket, DecodeError>;
}

export interface DecoderFuzzOptions {
  seed: number;
  iterations?: number;
  /** Stops at whichever of iterations / seconds comes first; one of them is required. */
  seconds?: number;
  target?: FuzzTarget;
  /** The decoder under test: the relay's by default, a broken one to prove the checks bite. */
  codec?: DecoderCodec;
  /** Stop collecting details after this many violations (counting continues). */
  maxViolations?: number;
}

export type { Violation } from './loop.ts';

export interface DecoderFuzzReport {
  seed: number;
  mutants: number;
  seconds: number;
  decoded: number;
  decodeErrors: Record<string, number>;
  messageAuthenticator: Record<'valid' | 'invalid' | 'missing', number>;
  passwords: { unhidden: number; rejected: number };
  ops: Record<string, number>;
  violationCount: number;
  violations: Violation[];
}

const DECODE_REASONS = new Set<string>([
  'datagram_too_short',
  'bad_length_field',
  'truncated',
  'bad_attribute_length',
  'attribute_overflows_packet',
  'bad_message_authenticator',
]);

export function runDecoderFuzz(opts: DecoderFuzzOptions): DecoderFuzzReport {
  const target = opts.target ?? DEFAULT_TARGET;
  const codec = opts.codec ?? { decode: decodePacket };
  const report: DecoderFuzzReport = {
    seed: opts.seed,
    mutants: 0,
    seconds: 0,
    decoded: 0,
    decodeErrors: {},
    messageAuthenticator: { valid: 0, invalid: 0, missing: 0 },
    passwords: { unhidden: 0, rejected: 0 },
    ops: {},
    violationCount: 0,
    violations: [],
  };
  fuzzLoop(
    opts,
    report,
    (index) => generateMutant(opts.seed, index, target),
    (mutant, index, fail) => {
      for (const op of mutant.ops) report.ops[op] = (report.ops[op] ?? 0) + 1;
      checkOne(mutant, index, codec, target, report, fail);
    },
  );
  return report;
}

function checkOne(
  mutant: Mutant,
  index: number,
  codec: DecoderCodec,
  target: FuzzTarget,
  report: DecoderFuzzReport,
  fail: Fail,
): void {
  // The socket hands out views into a pooled buffer: half the mutants sit at an odd offset with
  // live bytes around them, which the decoder must neither read nor alias.
  const inPool = index % 2 === 1;
  const pool = inPool ? new Uint8Array(mutant.bytes.length + 67).fill(0xa5) : undefined;
  pool?.set(mutant.bytes, 33);
  const datagram = pool ? pool.subarray(33, 33 + mutant.bytes.length) : Uint8Array.from(mutant.bytes);
  const result = codec.decode(datagram);
  const ref = refParse(mutant.bytes);
  if (typeof result !== 'object' || result === null || typeof result.ok !== 'boolean') {
    fail('untyped_result', String(result));
    return;
  }
  if (!result.ok) {
    const reason = (result.error as { reason?: unknown } | undefined)?.reason;
    if (typeof reason !== 'string' || !DECODE_REASONS.has(reason)) fail('untyped_error', JSON.stringify(result.error));
    report.decodeErrors[String(reason)] = (report.decodeErrors[String(reason)] ?? 0) + 1;
    if (ref) fail('rejects_valid_packet', `decoder said ${String(reason)}; the RFC reading accepts it`);
    return;
  }
  report.decoded++;
  const packet = result.value;
  if (!ref) {
    fail('accepts_invalid_packet', 'decoder accepted what the RFC reading rejects');
    return;
  }
  if (!equal(packet.bytes, ref.bytes)) fail('bytes_not_cut_to_length', `${packet.bytes.length} vs ${ref.length}`);
  if (
    packet.code !== ref.code ||
    packet.identifier !== ref.identifier ||
    !equal(packet.authenticator, ref.authenticator)
  )
    fail('header_mismatch', 'code, identifier or authenticator differs');
  const sameAttributes =
    packet.attributes.length === ref.attributes.length &&
    packet.attributes.every((a, i) => a.type === ref.attributes[i]!.type && equal(a.value, ref.attributes[i]!.value));
  if (!sameAttributes) fail('attribute_mismatch', 'attribute list differs from the RFC reading');
  const reencoded = encodePacket(packet);
  if (!reencoded.ok) fail('reencode_error', reencoded.error.reason);
  else if (!equal(reencoded.value, ref.bytes)) fail('reencode_differs', hex(reencoded.value));

  const ma = checkMessageAuthenticator(packet, target.secret);
  report.messageAuthenticator[ma]++;
  const refMa = refCheckMessageAuthenticator(ref, target.secret);
  if (ma !== refMa) fail('message_authenticator_mismatch', `codec ${ma}, reference ${refMa}`);

  for (const [i, a] of packet.attributes.entries()) {
    if (a.type !== USER_PASSWORD) continue;
    const plain = unhidePassword(a.value, target.secret, packet.authenticator);
    const refPlain = refUnhide(ref.attributes[i]!.value, target.secret, ref.authenticator);
    if (plain.ok) report.passwords.unhidden++;
    else report.passwords.rejected++;
    if (plain.ok !== (refPlain !== undefined) || (plain.ok && refPlain && !equal(plain.value, refPlain)))
      fail('password_mismatch', `codec ${plain.ok ? hex(plain.value) : plain.error.reason}`);
  }

  if (pool) {
    // Scribble over the receive buffer: what the decoder returned must not change.
    const before = packet.attributes.map((a) => Uint8Array.from(a.value));
    const authBefore = Uint8Array.from(packet.authenticator);
    pool.fill(0x5a);
    if (!packet.attributes.every((a, i) => equal(a.value, before[i]!)) || !equal(packet.authenticator, authBefore))
      fail('aliases_receive_buffer', 'decoded values changed when the datagram buffer was reused');
  }
}
