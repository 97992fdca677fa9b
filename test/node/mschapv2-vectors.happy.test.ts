import { describe, expect, it } from 'vitest';
import {
  challengeHash,
  generateAuthenticatorResponse,
  generateNtResponse,
  md4,
  mppeMasterKey,
  mppeStartKey,
  ntPasswordHash,
} from '../support/mschapv2.ts';

/** Golden vectors: RFC 1320 §A.5 (MD4), RFC 2759 §9.2 (MS-CHAPv2), RFC 3079 §3.5.3 (MPPE 128-bit). */

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

describe('MD4 (RFC 1320 test suite)', () => {
  it.each([
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      'e33b4ddc9c38f2199c3e7b164fcc0536',
    ],
  ])('MD4(%j)', (input, digest) => {
    expect(Buffer.from(md4(new TextEncoder().encode(input))).toString('hex')).toBe(digest);
  });
});

describe('MS-CHAPv2 (RFC 2759 §9.2)', () => {
  const userName = 'User';
  const password = 'clientPass';
  const authenticatorChallenge = hex('5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28');
  const peerChallenge = hex('21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E');
  const ntResponse = '82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF';

  it('ChallengeHash', () => {
    expect(toHex(challengeHash(peerChallenge, authenticatorChallenge, userName))).toBe('D02E4386BCE91226');
  });

  it('NtPasswordHash and its hash', () => {
    expect(toHex(ntPasswordHash(password))).toBe('44EBBA8D5312B8D611474411F56989AE');
    expect(toHex(md4(ntPasswordHash(password)))).toBe('41C00C584BD2D91C4017A2A12FA59F3F');
  });

  it('GenerateNTResponse', () => {
    expect(toHex(generateNtResponse(authenticatorChallenge, peerChallenge, userName, password))).toBe(ntResponse);
  });

  it('GenerateAuthenticatorResponse', () => {
    expect(
      generateAuthenticatorResponse(password, hex(ntResponse), peerChallenge, authenticatorChallenge, userName),
    ).toBe('S=407A5589115FD0D6209F510FE9C04566932CDA56');
  });

  it('ignores a domain prefix in the user name', () => {
    expect(toHex(challengeHash(peerChallenge, authenticatorChallenge, 'CORP\\User'))).toBe('D02E4386BCE91226');
  });

  it('MPPE master key and 128-bit start keys (RFC 3079 §3.5.3)', () => {
    const master = mppeMasterKey(password, hex(ntResponse));
    expect(toHex(master)).toBe('FDECE3717A8C838CB388E527AE3CDD31');
    // The RFC's SendStartKey128 is derived with Magic3: the server's send key, the peer's receive key.
    expect(toHex(mppeStartKey(master, true, true))).toBe('8B7CDC149B993A1BA118CB153F56DCCB');
    expect(toHex(mppeStartKey(master, false, false))).toBe('8B7CDC149B993A1BA118CB153F56DCCB');
    // The other direction (Magic2) differs: a swapped magic would be caught here.
    expect(toHex(mppeStartKey(master, true, false))).not.toBe('8B7CDC149B993A1BA118CB153F56DCCB');
  });
});
