import { describe, expect, it } from 'vitest';
import {
  Attr,
  Code,
  decodePacket,
  decryptMppeKey,
  encodePacket,
  encryptMppeKey,
  hidePassword,
  unhidePassword,
  vendorSpecific,
} from '../../local-relay/src/radius/index.ts';
import { decodeText, decodeTextStrict } from '../../local-relay/src/radius/values.ts';

const header = (length: number, extra: number[] = []) => {
  const b = new Uint8Array(Math.max(20, 20 + extra.length));
  b[0] = Code.AccessRequest;
  b[2] = length >> 8;
  b[3] = length & 0xff;
  b.set(extra, 20);
  return b;
};
const auth = new Uint8Array(16);
const secret = new TextEncoder().encode('s3cret');

describe('decodePacket length rules (RFC 2865 §3)', () => {
  it('refuses datagrams under 20 octets', () => {
    expect(decodePacket(new Uint8Array(19))).toEqual({
      ok: false,
      error: { reason: 'datagram_too_short', length: 19 },
    });
  });

  it('refuses a Length field below 20 or above 4096', () => {
    expect(decodePacket(header(19))).toMatchObject({ ok: false, error: { reason: 'bad_length_field' } });
    const big = new Uint8Array(5000);
    big[2] = 4097 >> 8;
    big[3] = 4097 & 0xff;
    expect(decodePacket(big)).toMatchObject({ ok: false, error: { reason: 'bad_length_field', length: 4097 } });
  });

  it('refuses a datagram shorter than its Length field', () => {
    expect(decodePacket(header(30))).toEqual({ ok: false, error: { reason: 'truncated', length: 30, available: 20 } });
  });

  it('ignores octets past the Length field', () => {
    const p = decodePacket(header(26, [1, 6, 0x61, 0x62, 0x63, 0x64, 0xff, 0xff, 0xff]));
    expect(p.ok && p.value.attributes).toEqual([{ type: 1, value: new Uint8Array([0x61, 0x62, 0x63, 0x64]) }]);
    expect(p.ok && p.value.bytes.length).toBe(26);
  });
});

describe('decodePacket attribute rules (RFC 2865 §5)', () => {
  it('refuses attribute lengths 0 and 1', () => {
    expect(decodePacket(header(22, [1, 0]))).toEqual({
      ok: false,
      error: { reason: 'bad_attribute_length', offset: 20 },
    });
    expect(decodePacket(header(22, [1, 1]))).toEqual({
      ok: false,
      error: { reason: 'bad_attribute_length', offset: 20 },
    });
  });

  it('refuses an attribute running past Length, and a lone trailing octet', () => {
    expect(decodePacket(header(24, [1, 6, 0, 0]))).toMatchObject({
      ok: false,
      error: { reason: 'attribute_overflows_packet' },
    });
    expect(decodePacket(header(21, [1]))).toMatchObject({ ok: false, error: { reason: 'attribute_overflows_packet' } });
  });

  it('refuses a Message-Authenticator that is not 18 octets long, or present twice', () => {
    expect(decodePacket(header(24, [80, 4, 0, 0]))).toMatchObject({
      ok: false,
      error: { reason: 'bad_message_authenticator', detail: 'length' },
    });
    const twice = [80, 18, ...new Array(16).fill(0), 80, 18, ...new Array(16).fill(0)];
    expect(decodePacket(header(20 + twice.length, twice))).toMatchObject({
      ok: false,
      error: { reason: 'bad_message_authenticator', detail: 'duplicate' },
    });
  });
});

describe('encodePacket limits', () => {
  it('refuses values over 253 octets and packets over 4096', () => {
    const base = { code: Code.AccessAccept, identifier: 0, authenticator: auth };
    expect(encodePacket({ ...base, attributes: [{ type: Attr.Class, value: new Uint8Array(254) }] })).toMatchObject({
      ok: false,
      error: { reason: 'attribute_too_long' },
    });
    const many = Array.from({ length: 17 }, () => ({ type: Attr.Class, value: new Uint8Array(253) }));
    expect(encodePacket({ ...base, attributes: many })).toMatchObject({
      ok: false,
      error: { reason: 'packet_too_long' },
    });
    expect(encodePacket({ ...base, authenticator: new Uint8Array(15), attributes: [] })).toMatchObject({
      ok: false,
      error: { reason: 'bad_header', field: 'authenticator' },
    });
  });
});

describe('User-Password (RFC 2865 §5.2) bounds', () => {
  it('refuses passwords over 128 octets', () => {
    expect(hidePassword('x'.repeat(129), secret, auth)).toEqual({
      ok: false,
      error: { reason: 'too_long', length: 129 },
    });
  });

  it('refuses hidden values that are not 16..128 octets in steps of 16', () => {
    for (const n of [0, 15, 17, 144]) {
      expect(unhidePassword(new Uint8Array(n), secret, auth)).toEqual({
        ok: false,
        error: { reason: 'bad_hidden_length', length: n },
      });
    }
  });

  it('keeps embedded NULs and strips only the trailing padding', () => {
    const pw = new Uint8Array([0x61, 0, 0x62]);
    const hidden = hidePassword(pw, secret, auth);
    expect(hidden.ok && unhidePassword(hidden.value, secret, auth)).toEqual({ ok: true, value: pw });
  });
});

describe('MPPE and VSA bounds', () => {
  it('refuses malformed encrypted keys and salts without the high bit', () => {
    expect(decryptMppeKey(new Uint8Array(17), secret, auth)).toMatchObject({
      ok: false,
      error: { reason: 'bad_length' },
    });
    expect(decryptMppeKey(new Uint8Array(18), secret, auth)).toEqual({ ok: false, error: { reason: 'bad_salt' } });
    expect(encryptMppeKey(new Uint8Array(16), secret, auth, new Uint8Array([0x01, 0x02]))).toEqual({
      ok: false,
      error: { reason: 'bad_salt' },
    });
  });

  it('refuses VSA values that would not fit one attribute', () => {
    expect(vendorSpecific(311, 1, new Uint8Array(248))).toMatchObject({
      ok: false,
      error: { reason: 'value_too_long' },
    });
  });
});

describe('text decoding keeps distinct bytes distinct', () => {
  it('does not strip a leading UTF-8 byte-order mark from User-Name or passwords', () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
    expect(decodeTextStrict(bom)).toBe('\ufeffa');
    expect(decodeText(bom)).toBe('\ufeffa');
  });
});
