import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Attr,
  Code,
  checkMessageAuthenticator,
  computeResponseAuthenticator,
  decodeIpv4,
  decodePacket,
  decryptMppeKey,
  encodePacket,
  encodeReply,
  encodeRequest,
  encryptMppeKey,
  getAttribute,
  getAttributes,
  getVendorAttribute,
  hidePassword,
  ipv4Attribute,
  MICROSOFT_VENDOR_ID,
  MsAttr,
  newRequestAuthenticator,
  splitTextAttributes,
  textAttribute,
  unhidePassword,
  vendorAttributes,
  vendorSpecific,
  verifyReply,
  verifyResponseAuthenticator,
} from '../../local-relay/src/radius/index.ts';
import { decodeInteger, integerAttribute } from '../support/radius-integer.ts';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const utf8 = (s: string) => new TextEncoder().encode(s);
const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T => {
  if (!r.ok) throw new Error(`unexpected error ${JSON.stringify(r.error)}`);
  return r.value;
};

// RFC 2865 §7.1 "User Telnet to Specified Host": secret xyzzy5461, password "arctangent".
const RFC2865_SECRET = utf8('xyzzy5461');
const RFC2865_REQUEST = hex(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
  98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee
  04 06 c0 a8 01 10 05 06 00 00 00 03`);
const RFC2865_ACCEPT = hex(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2
  06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03`);
const RFC2865_REQUEST_AUTH = hex('0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a');
const RFC2865_HIDDEN = hex('0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee');
// RFC 2865 §7.2 "Framed User Authenticating with CHAP".
const RFC2865_CHAP_REQUEST = hex(`01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
  0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75
  04 06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01`);
// FreeRADIUS src/tests/unit/protocols/radius/packet_radius.txt (tcpdump RADIUS.pcap): an EAP
// Access-Accept with Message-Authenticator in the middle, attributes after it.
const FREERADIUS_EAP_ACCEPT = hex(`02 06 00 61 fb ba 6a 78 4c 7d ec b3 14 ca f0 f2 79 44 a3 7b
  08 06 ff ff ff fe 0c 06 00 00 02 40 06 06 00 00 00 02 12 15 48 65 6c 6c 6f 2c 20 4a 6f 68 6e
  2e 4d 63 47 75 69 72 6b 4f 06 03 01 00 04 50 12 b9 c4 ae 62 13 a7 1d 32 12 5e f7 ca 4e 4c 63 60
  01 0e 4a 6f 68 6e 2e 4d 63 47 75 69 72 6b`);

describe('decodePacket memory', () => {
  it('holds one private copy: values survive a reused receive buffer and share one allocation', () => {
    const datagram = new Uint8Array(RFC2865_REQUEST.length + 8);
    datagram.set(RFC2865_REQUEST);
    const p = unwrap(decodePacket(datagram));
    datagram.fill(0);
    expect(new TextDecoder().decode(getAttribute(p, Attr.UserName))).toBe('nemo');
    expect(p.authenticator).toEqual(RFC2865_REQUEST_AUTH);
    // A login waiting on a push holds its packet: one buffer, not one per attribute.
    expect(p.bytes.buffer.byteLength).toBe(RFC2865_REQUEST.length);
    for (const value of [p.authenticator, ...p.attributes.map((a) => a.value)]) {
      expect(value.buffer).toBe(p.bytes.buffer);
    }
  });
});

describe('RFC 2865 §7 golden vectors', () => {
  it('decodes the §7.1 Access-Request and unhides "arctangent"', () => {
    const p = unwrap(decodePacket(RFC2865_REQUEST));
    expect(p.code).toBe(Code.AccessRequest);
    expect(p.identifier).toBe(0);
    expect(p.authenticator).toEqual(RFC2865_REQUEST_AUTH);
    expect(p.attributes.map((a) => a.type)).toEqual([
      Attr.UserName,
      Attr.UserPassword,
      Attr.NasIpAddress,
      Attr.NasPort,
    ]);
    expect(new TextDecoder().decode(getAttribute(p, Attr.UserName))).toBe('nemo');
    expect(decodeIpv4(getAttribute(p, Attr.NasIpAddress)!)).toBe('192.168.1.16');
    expect(decodeInteger(getAttribute(p, Attr.NasPort)!)).toBe(3);
    const hidden = getAttribute(p, Attr.UserPassword)!;
    expect(hidden).toEqual(RFC2865_HIDDEN);
    expect(new TextDecoder().decode(unwrap(unhidePassword(hidden, RFC2865_SECRET, p.authenticator)))).toBe(
      'arctangent',
    );
  });

  it('hides "arctangent" to the §7.1 bytes and re-encodes the request byte for byte', () => {
    const hidden = unwrap(hidePassword('arctangent', RFC2865_SECRET, RFC2865_REQUEST_AUTH));
    expect(hidden).toEqual(RFC2865_HIDDEN);
    const encoded = unwrap(
      encodePacket({
        code: Code.AccessRequest,
        identifier: 0,
        authenticator: RFC2865_REQUEST_AUTH,
        attributes: [
          textAttribute(Attr.UserName, 'nemo'),
          { type: Attr.UserPassword, value: hidden },
          ipv4Attribute(Attr.NasIpAddress, '192.168.1.16')!,
          integerAttribute(Attr.NasPort, 3),
        ],
      }),
    );
    expect(encoded).toEqual(RFC2865_REQUEST);
  });

  it('computes and verifies the §7.1 Access-Accept Response Authenticator', () => {
    expect(computeResponseAuthenticator(RFC2865_ACCEPT, RFC2865_REQUEST_AUTH, RFC2865_SECRET)).toEqual(
      RFC2865_ACCEPT.subarray(4, 20),
    );
    expect(verifyResponseAuthenticator(RFC2865_ACCEPT, RFC2865_REQUEST_AUTH, RFC2865_SECRET)).toBe(true);
    const reply = unwrap(decodePacket(RFC2865_ACCEPT));
    const request = { identifier: 0, authenticator: RFC2865_REQUEST_AUTH };
    // The 2000-era example has no Message-Authenticator: accepted only when the caller opts out.
    expect(verifyReply(reply, request, RFC2865_SECRET, { requireMessageAuthenticator: false }).ok).toBe(true);
    expect(verifyReply(reply, request, RFC2865_SECRET)).toEqual({ ok: false, error: 'missing_message_authenticator' });
  });

  it('decodes the §7.2 CHAP request keeping unknown attributes raw and in order', () => {
    const p = unwrap(decodePacket(RFC2865_CHAP_REQUEST));
    expect(p.identifier).toBe(1);
    expect(p.attributes.map((a) => a.type)).toEqual([1, 3, 4, 5, 6, 7]);
    expect(getAttribute(p, Attr.ChapPassword)?.length).toBe(17);
    expect(getAttribute(p, 7)).toEqual(hex('00 00 00 01'));
    expect(unwrap(encodePacket(p))).toEqual(RFC2865_CHAP_REQUEST);
  });
});

describe('FreeRADIUS decode vectors', () => {
  it('decodes an EAP Access-Accept whose Message-Authenticator is not first', () => {
    const p = unwrap(decodePacket(FREERADIUS_EAP_ACCEPT));
    expect(p.code).toBe(Code.AccessAccept);
    expect(p.attributes.map((a) => a.type)).toEqual([8, 12, 6, 18, 79, 80, 1]);
    expect(getAttribute(p, Attr.MessageAuthenticator)).toEqual(hex('b9c4ae6213a71d32125ef7ca4e4c6360'));
    expect(unwrap(encodePacket(p))).toEqual(FREERADIUS_EAP_ACCEPT);
  });
});

describe('Message-Authenticator (RFC 3579 §3.2)', () => {
  const secret = utf8('a-shared-secret-of-some-length');

  it('signs requests with MA first, matching an independent HMAC over the zeroed packet', () => {
    const authenticator = newRequestAuthenticator();
    const bytes = unwrap(
      encodeRequest(
        { code: Code.AccessRequest, identifier: 42, authenticator, attributes: [textAttribute(Attr.UserName, 'bob')] },
        secret,
      ),
    );
    expect(bytes[20]).toBe(Attr.MessageAuthenticator);
    expect(bytes[21]).toBe(18);
    const zeroed = Uint8Array.from(bytes);
    zeroed.fill(0, 22, 38);
    expect(bytes.subarray(22, 38)).toEqual(new Uint8Array(createHmac('md5', secret).update(zeroed).digest()));
    expect(checkMessageAuthenticator(unwrap(decodePacket(bytes)), secret)).toBe('valid');
  });

  it('signs replies with the request authenticator, MA first, then the Response Authenticator', () => {
    const requestAuth = newRequestAuthenticator();
    const bytes = unwrap(
      encodeReply(
        {
          code: Code.AccessAccept,
          identifier: 7,
          attributes: [textAttribute(Attr.ReplyMessage, 'hi'), { type: Attr.ProxyState, value: hex('0102') }],
        },
        requestAuth,
        secret,
      ),
    );
    expect(bytes[20]).toBe(Attr.MessageAuthenticator);
    // Independent check: HMAC over the packet with the request authenticator in the header.
    const scratch = Uint8Array.from(bytes);
    scratch.set(requestAuth, 4);
    scratch.fill(0, 22, 38);
    expect(bytes.subarray(22, 38)).toEqual(new Uint8Array(createHmac('md5', secret).update(scratch).digest()));
    expect(verifyResponseAuthenticator(bytes, requestAuth, secret)).toBe(true);
    const reply = unwrap(decodePacket(bytes));
    expect(verifyReply(reply, { identifier: 7, authenticator: requestAuth }, secret)).toEqual({
      ok: true,
      value: undefined,
    });
    expect(getAttributes(reply, Attr.ProxyState)).toEqual([hex('0102')]);
  });

  it('reports a missing Message-Authenticator', () => {
    expect(checkMessageAuthenticator(unwrap(decodePacket(RFC2865_REQUEST)), RFC2865_SECRET)).toBe('missing');
  });
});

describe('Vendor-Specific and MS-CHAP attributes', () => {
  it('builds and reads Microsoft VSAs', () => {
    const challenge = hex('00112233445566778899aabbccddeeff');
    const vsa = unwrap(vendorSpecific(MICROSOFT_VENDOR_ID, MsAttr.MsChapChallenge, challenge));
    expect(vsa.type).toBe(Attr.VendorSpecific);
    expect(vsa.value.subarray(0, 6)).toEqual(hex('00 00 01 37 0b 12'));
    const attrs = [textAttribute(Attr.UserName, 'u'), vsa, { type: Attr.VendorSpecific, value: hex('00 00 00 09 01') }];
    expect(getVendorAttribute(attrs, MICROSOFT_VENDOR_ID, MsAttr.MsChapChallenge)).toEqual(challenge);
    // The malformed Cisco VSA stays raw: it is simply not listed.
    expect(vendorAttributes(attrs)).toHaveLength(1);
  });

  it('encrypts and decrypts MS-MPPE keys (RFC 2548 §2.4.2) with the salt high bit set', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const secret = utf8('nas-secret');
    const reqAuth = newRequestAuthenticator();
    const value = unwrap(encryptMppeKey(key, secret, reqAuth));
    expect(value[0]! & 0x80).toBe(0x80);
    expect((value.length - 2) % 16).toBe(0);
    expect(unwrap(decryptMppeKey(value, secret, reqAuth))).toEqual(key);
    expect(decryptMppeKey(value, utf8('other-secret'), reqAuth)).not.toEqual({ ok: true, value: key });
  });
});

describe('text values', () => {
  it('splits long Reply-Messages on 253-octet, code-point-safe boundaries', () => {
    const text = `${'x'.repeat(252)}é${'y'.repeat(300)}`;
    const parts = splitTextAttributes(Attr.ReplyMessage, text);
    expect(parts.every((p) => p.value.length <= 253)).toBe(true);
    expect(parts[0]!.value.length).toBe(252);
    expect(new TextDecoder().decode(Buffer.concat(parts.map((p) => p.value)))).toBe(text);
  });
});
