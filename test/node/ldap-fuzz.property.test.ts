import { describe, expect, it } from 'vitest';
import { decodeBindRequest, decodeEnvelope } from '../../local-relay/src/ldap/message.ts';
import { generateLdapMutant, LDAP_MUTATOR_NAMES, runLdapFuzz } from '../fuzz/ldap-fuzz.ts';

const SEED = 20_261_130;

describe('LDAP BER decoder fuzz', () => {
  it('the framer, envelope and BindRequest decoders survive 10k mutants and agree with the oracle', () => {
    const r = runLdapFuzz({ seed: SEED, iterations: 10_000 });
    expect(r.violations).toEqual([]);
    expect(r.mutants).toBe(10_000);
    // Not vacuous: many messages decode, binds among them, and every bound is hit.
    expect(r.decoded).toBeGreaterThan(1_000);
    expect(r.binds).toBeGreaterThan(100);
    for (const kind of [
      'indefinite_length',
      'length_too_long',
      'too_deep',
      'truncated',
      'bad_integer',
      'high_tag_number',
    ]) {
      expect(r.errors[kind], kind).toBeGreaterThan(0);
    }
  }, 60_000);

  it('the oracle catches a decoder that skips the nesting bound', () => {
    const r = runLdapFuzz({
      seed: SEED,
      iterations: 3_000,
      codec: { decodeEnvelope: (msg) => decodeEnvelope(msg), decodeBindRequest },
    });
    expect(r.violationCount).toBeGreaterThan(0);
    expect(r.violations.map((v) => v.kind)).toContain('accepts_invalid_message');
  });

  it('a mutant is rebuilt from its seed and index, and every mutator runs', () => {
    const a = generateLdapMutant(SEED, 77);
    expect(Buffer.from(generateLdapMutant(SEED, 77).bytes).equals(Buffer.from(a.bytes))).toBe(true);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) for (const op of generateLdapMutant(SEED, i).ops) seen.add(op);
    expect([...seen].sort()).toEqual([...LDAP_MUTATOR_NAMES].sort());
  });
});
