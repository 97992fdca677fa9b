import { describe, expect, it } from 'vitest';
import { isAtOrUnder, parseDn } from '../../local-relay/src/ldap/dn.ts';
import { MessageFramer } from '../../local-relay/src/ldap/framing.ts';
import {
  decodeBindRequest,
  decodeEnvelope,
  decodeResultCode,
  encodeBindResponse,
  encodeExtendedResponse,
  encodeNoticeOfDisconnection,
  encodeSimpleBind,
  extendedRequestName,
  OP,
  STARTTLS_OID,
} from '../../local-relay/src/ldap/message.ts';

/** Golden vectors: bytes written out by hand from RFC 4511 / X.690, and liblber's 0x84 lengths. */
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('LDAP codec: golden vectors', () => {
  it('decodes a simple bind as OpenLDAP sends it (4-byte lengths)', () => {
    const msg = hex('3084 00000016 020102 6084 0000000d 020103 0404 636e3d61 8002 7077');
    const env = decodeEnvelope(msg, 8);
    expect(env.ok && env.value).toMatchObject({ messageId: 2, opTag: OP.bindRequest });
    const bind = env.ok ? decodeBindRequest(msg, env.value) : undefined;
    expect(bind?.ok && bind.value.version).toBe(3);
    expect(bind?.ok && Buffer.from(bind.value.name).toString()).toBe('cn=a');
    expect(bind?.ok && bind.value.auth).toEqual({ kind: 'simple', password: hex('7077') });
  });

  it('decodes a SASL bind as sasl, and the StartTLS request name', () => {
    const sasl = hex('3016 020103 6011 020103 0400 a30a 0408 45585445524e414c');
    const env = decodeEnvelope(sasl);
    expect(env.ok && decodeBindRequest(sasl, env.value)).toMatchObject({ ok: true, value: { auth: { kind: 'sasl' } } });
    const starttls = hex('301d 020106 7718 8016 312e332e362e312e342e312e313436362e3230303337');
    const e2 = decodeEnvelope(starttls);
    expect(e2.ok && extendedRequestName(starttls, e2.value)).toEqual({ ok: true, value: STARTTLS_OID });
  });

  it('keeps the raw controls element of a request', () => {
    const msg = hex(
      '3047 020104 6320 0400 0a0100 0a0100 020100 020100 010100 870b 6f626a656374436c617373 3000 a020 301e 0416 312e322e3834302e3131333535362e312e342e333139 0404 3002 0200',
    );
    const env = decodeEnvelope(msg, 8);
    expect(
      env.ok && env.value.controls && toHex(msg.subarray(env.value.controls.start, env.value.controls.end)),
    ).toMatch(/^a020/);
  });

  it('encodes BindResponses, a simple bind, the StartTLS answer and the Notice of Disconnection', () => {
    expect(toHex(encodeBindResponse(1, 0, ''))).toBe('300c02010161070a010004000400');
    expect(toHex(encodeBindResponse(300, 49, 'x'))).toBe('300e0202012c61080a01310400040178');
    expect(toHex(encodeSimpleBind(2, hex('636e3d61'), hex('7077')))).toBe('3012020102600d0201030404636e3d6180027077');
    expect(toHex(encodeExtendedResponse(6, 0, '', STARTTLS_OID))).toBe(
      '3024020106781f0a0100040004008a16312e332e362e312e342e312e313436362e3230303337',
    );
    expect(toHex(encodeNoticeOfDisconnection(52, ''))).toBe(
      '3024020100781f0a0134040004008a16312e332e362e312e342e312e313436362e3230303336',
    );
    // A message ID of 128 needs a leading zero octet to stay positive.
    expect(toHex(encodeBindResponse(128, 0, '').subarray(2, 6))).toBe('02020080');
  });

  it('reads the result code of an encoded response', () => {
    const r = encodeBindResponse(9, 49, 'denied');
    const env = decodeEnvelope(r);
    expect(env.ok && decodeResultCode(r, env.value)).toEqual({ ok: true, value: 49 });
  });

  it.each([
    ['indefinite length', '3080 020101 4200 0000', 'indefinite_length'],
    ['five length octets', '3085 0000000005 020101 4200', 'length_too_long'],
    ['non-minimal message ID', '3006 02020001 4200', 'bad_integer'],
    ['message ID 2^31', '3009 02050080000000 4200', 'bad_integer'],
    ['context-class op', '3005 020101 8200', 'unexpected_tag'],
    ['trailing element', '3007 020101 4200 0400', 'unexpected_tag'],
    ['fourth element', '3009 020101 4200 a000 0400', 'trailing_bytes'],
    ['high tag number', '3006 020101 5f0100', 'high_tag_number'],
  ])('refuses %s', (_name, bytes, error) => {
    expect(decodeEnvelope(hex(bytes), 8)).toEqual({ ok: false, error });
  });
});

describe('LDAP framing', () => {
  it('cuts messages however the stream is chunked, and refuses a giant from its header', () => {
    const a = encodeBindResponse(1, 0, 'a'.repeat(300));
    const b = encodeBindResponse(2, 49, '');
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut += 7) {
      const f = new MessageFramer(4096);
      const first = f.push(stream.subarray(0, cut));
      const second = f.push(stream.subarray(cut));
      const frames = [...(first.ok ? first.value : []), ...(second.ok ? second.value : [])];
      expect(frames.map(toHex)).toEqual([toHex(a), toHex(b)]);
      expect(f.buffered).toBe(0);
    }
    expect(new MessageFramer(4096).push(hex('3084 00010000'))).toEqual({ ok: false, error: 'too_large' });
  });
});

describe('LDAP DNs', () => {
  const ou = parseDn('OU=Service Accounts, DC=corp,DC=example')!;
  it('compares case-insensitively, ignoring spaces around separators', () => {
    expect(isAtOrUnder(parseDn('cn=svc,ou=service accounts,dc=CORP,dc=example')!, ou)).toBe(true);
    expect(isAtOrUnder(parseDn('ou=Service Accounts,dc=corp,dc=example')!, ou)).toBe(true);
    expect(isAtOrUnder(parseDn('cn=alice,ou=Staff,dc=corp,dc=example')!, ou)).toBe(false);
  });
  it('an escaped comma is part of a value, not a way under the exempt OU', () => {
    const tricky = parseDn('cn=x\\,OU=Service Accounts\\,DC=corp\\,DC=example,ou=people,dc=corp,dc=example')!;
    expect(tricky[0]!.value).toBe('x,OU=Service Accounts,DC=corp,DC=example');
    expect(isAtOrUnder(tricky, ou)).toBe(false);
  });
  it('reads hex escapes as UTF-8 and refuses what it cannot read fully', () => {
    expect(parseDn('uid=jos\\C3\\A9,ou=people')![0]!.value).toBe('josé');
    expect(parseDn('cn=a+sn=b,ou=Service Accounts,dc=corp,dc=example')).toBeUndefined();
    expect(parseDn('alice@corp.example')).toBeUndefined();
    expect(parseDn('cn=a\\')).toBeUndefined();
    expect(isAtOrUnder(parseDn('cn=a')!, [])).toBe(false);
  });
});
