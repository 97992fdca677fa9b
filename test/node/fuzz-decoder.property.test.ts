import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../local-relay/src/radius/index.ts';
import { DEFAULT_TARGET } from '../fuzz/corpus.ts';
import { runDecoderFuzz } from '../fuzz/decoder-fuzz.ts';
import { generateMutant, MUTATOR_NAMES } from '../fuzz/mutators.ts';

const SEED = 20_260_901;

describe('decoder fuzz', () => {
  it('decodePacket, checkMessageAuthenticator and unhidePassword survive 10k mutants and agree with the RFC reading', () => {
    const r = runDecoderFuzz({ seed: SEED, iterations: 10_000 });
    expect(r.violations).toEqual([]);
    expect(r.mutants).toBe(10_000);
    // Not vacuous: every mutator ran, every decode error was provoked, and enough mutants got
    // through to exercise the MAC check and password unhiding both ways.
    for (const op of MUTATOR_NAMES) expect(r.ops[op], op).toBeGreaterThan(0);
    expect(Object.keys(r.decodeErrors).sort()).toEqual([
      'attribute_overflows_packet',
      'bad_attribute_length',
      'bad_length_field',
      'bad_message_authenticator',
      'datagram_too_short',
      'truncated',
    ]);
    expect(r.messageAuthenticator.valid).toBeGreaterThan(100);
    expect(r.messageAuthenticator.invalid).toBeGreaterThan(100);
    expect(r.messageAuthenticator.missing).toBeGreaterThan(100);
    expect(r.passwords.rejected).toBeGreaterThan(0);
    // CPU-bound: 10k mutants take ~4 s alone on a 2-core box and longer when other suites share it.
  }, 60_000);

  it('a mutant is rebuilt byte for byte from its seed and index', () => {
    const a = generateMutant(SEED, 4242, DEFAULT_TARGET);
    const b = generateMutant(SEED, 4242, DEFAULT_TARGET);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(b.ops).toEqual(a.ops);
    expect(Buffer.from(generateMutant(SEED + 1, 4242, DEFAULT_TARGET).bytes).equals(Buffer.from(a.bytes))).toBe(false);
  });
});

describe('the decoder oracle bites', () => {
  it('catches a decoder that throws on truncated datagrams', () => {
    const r = runDecoderFuzz({
      seed: SEED,
      iterations: 2_000,
      codec: {
        decode: (b) => {
          const res = decodePacket(b);
          if (!res.ok && res.error.reason === 'truncated') throw new RangeError('offset out of bounds');
          return res;
        },
      },
    });
    expect(r.violations.map((v) => v.kind)).toContain('throw');
  });

  it('catches a decoder that trusts the datagram size instead of the Length field', () => {
    const r = runDecoderFuzz({
      seed: SEED,
      iterations: 2_000,
      codec: {
        decode: (b) => {
          const copy = Uint8Array.from(b);
          if (copy.length >= 4 && copy.length <= 4096) {
            copy[2] = copy.length >> 8;
            copy[3] = copy.length & 0xff;
          }
          return decodePacket(copy);
        },
      },
    });
    const kinds = new Set(r.violations.map((v) => v.kind));
    expect(kinds.has('accepts_invalid_packet') || kinds.has('bytes_not_cut_to_length')).toBe(true);
  });
});
