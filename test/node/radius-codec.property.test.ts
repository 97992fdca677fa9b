import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Attr,
  Code,
  checkMessageAuthenticator,
  decodePacket,
  decryptMppeKey,
  encodePacket,
  encodeReply,
  encodeRequest,
  encryptMppeKey,
  hidePassword,
  type RadiusAttribute,
  unhidePassword,
  verifyReply,
} from '../../local-relay/src/radius/index.ts';
import { hmacMd5, md5 } from '../../local-relay/src/radius/md5.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const authenticator = bytes(16, 16);
const secret = bytes(1, 64);
// Message-Authenticator is excluded: the codec treats it specially (fixed length, at most one).
const attribute: fc.Arbitrary<RadiusAttribute> = fc.record({
  type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== Attr.MessageAuthenticator),
  value: bytes(0, 253),
});
const attributes = fc.array(attribute, { maxLength: 12 });

describe('codec properties', () => {
  it('one-shot md5/hmacMd5 agree with createHash/createHmac (keys shorter and longer than a block)', () => {
    fc.assert(
      fc.property(bytes(1, 100), fc.array(bytes(0, 300), { maxLength: 5 }), (key, parts) => {
        const joined = Buffer.concat(parts);
        expect(md5(...parts, new Uint8Array())).toEqual(new Uint8Array(createHash('md5').update(joined).digest()));
        expect(hmacMd5(key, ...parts)).toEqual(new Uint8Array(createHmac('md5', key).update(joined).digest()));
      }),
    );
  });

  it('decode(encode(p)) == p, and re-encoding is byte-identical', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        authenticator,
        attributes,
        (code, identifier, auth, attrs) => {
          const encoded = encodePacket({ code, identifier, authenticator: auth, attributes: attrs });
          fc.pre(encoded.ok);
          if (!encoded.ok) return;
          const decoded = decodePacket(encoded.value);
          expect(decoded.ok).toBe(true);
          if (!decoded.ok) return;
          expect(decoded.value).toMatchObject({ code, identifier, authenticator: auth, attributes: attrs });
          expect(encodePacket(decoded.value)).toEqual(encoded);
        },
      ),
    );
  });

  it('random bytes never throw: they decode or return a typed error', () => {
    fc.assert(
      fc.property(bytes(0, 600), (datagram) => {
        const r = decodePacket(datagram);
        if (!r.ok) expect(typeof r.error.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes behind a plausible header never throw either', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), bytes(0, 400), secret, (code, body, s) => {
        const datagram = new Uint8Array(20 + body.length);
        datagram[0] = code;
        datagram[2] = datagram.length >> 8;
        datagram[3] = datagram.length & 0xff;
        datagram.set(body, 20);
        const r = decodePacket(datagram);
        if (r.ok) expect(['valid', 'missing', 'invalid']).toContain(checkMessageAuthenticator(r.value, s));
      }),
      { numRuns: 2000 },
    );
  });

  it('unhide(hide(pw)) == pw for passwords without trailing NULs', () => {
    fc.assert(
      fc.property(
        bytes(0, 128).filter((p) => p.length === 0 || p[p.length - 1] !== 0),
        secret,
        authenticator,
        (pw, s, a) => {
          const hidden = hidePassword(pw, s, a);
          expect(hidden.ok).toBe(true);
          if (!hidden.ok) return;
          expect(hidden.value.length % 16).toBe(0);
          expect(unhidePassword(hidden.value, s, a)).toEqual({ ok: true, value: pw });
        },
      ),
    );
  });

  it('decrypt(encrypt(key)) == key for MPPE keys', () => {
    fc.assert(
      fc.property(bytes(0, 64), secret, authenticator, (key, s, a) => {
        const enc = encryptMppeKey(key, s, a);
        expect(enc.ok && decryptMppeKey(enc.value, s, a)).toEqual({ ok: true, value: key });
      }),
    );
  });

  it('any single byte flip in a signed request invalidates it (or makes it undecodable)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        authenticator,
        attributes,
        secret,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (identifier, a, attrs, s, at, flip) => {
          const encoded = encodeRequest(
            { code: Code.AccessRequest, identifier, authenticator: a, attributes: attrs },
            s,
          );
          fc.pre(encoded.ok);
          if (!encoded.ok) return;
          const tampered = Uint8Array.from(encoded.value);
          const i = at % tampered.length;
          tampered[i] = tampered[i]! ^ flip;
          const decoded = decodePacket(tampered);
          if (decoded.ok) expect(checkMessageAuthenticator(decoded.value, s)).not.toBe('valid');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any single byte flip in a signed reply fails verifyReply', () => {
    fc.assert(
      fc.property(
        authenticator,
        attributes,
        secret,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (reqAuth, attrs, s, at, flip) => {
          const encoded = encodeReply({ code: Code.AccessAccept, identifier: 9, attributes: attrs }, reqAuth, s);
          fc.pre(encoded.ok);
          if (!encoded.ok) return;
          expect(encoded.value[20]).toBe(Attr.MessageAuthenticator);
          const tampered = Uint8Array.from(encoded.value);
          const i = at % tampered.length;
          tampered[i] = tampered[i]! ^ flip;
          const decoded = decodePacket(tampered);
          if (decoded.ok)
            expect(verifyReply(decoded.value, { identifier: 9, authenticator: reqAuth }, s).ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
