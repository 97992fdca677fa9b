import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Attr,
  Code,
  computeMessageAuthenticator,
  computeResponseAuthenticator,
  decodePacket,
  encodePacket,
  encodeReply,
  type RadiusAttribute,
} from '../../local-relay/src/radius/index.ts';
import { hmacMd5, md5 } from '../../local-relay/src/radius/md5.ts';

/**
 * The packet path hashes with its own MD5 and caches each secret's HMAC pad states; both must be
 * bit-for-bit OpenSSL's, whatever the key, the message split and the call history.
 */
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const opensslMd5 = (...parts: Uint8Array[]) => new Uint8Array(createHash('md5').update(Buffer.concat(parts)).digest());
const opensslHmac = (key: Uint8Array, ...parts: Uint8Array[]) =>
  new Uint8Array(createHmac('md5', key).update(Buffer.concat(parts)).digest());

describe('md5 / hmacMd5 against node:crypto', () => {
  it('md5 of every length across the one- and two-block padding boundaries', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff);
    for (let n = 0; n <= data.length; n++) {
      expect(md5(data.subarray(0, n))).toEqual(opensslMd5(data.subarray(0, n)));
    }
  });

  it('md5 does not depend on how the input is split into parts', () => {
    fc.assert(
      fc.property(fc.array(bytes(0, 150), { maxLength: 8 }), (parts) => {
        expect(md5(...parts)).toEqual(opensslMd5(...parts));
      }),
    );
  });

  it('keyed pads cached per secret: one key object reused over many messages, keys of 0..200 bytes', () => {
    fc.assert(
      fc.property(
        bytes(0, 200),
        fc.array(fc.array(bytes(0, 140), { maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        (key, messages) => {
          for (const parts of messages) expect(hmacMd5(key, ...parts)).toEqual(opensslHmac(key, ...parts));
        },
      ),
    );
  });

  it('equal secrets in different objects, and different secrets interleaved, never share a cached state', () => {
    fc.assert(
      fc.property(bytes(1, 80), bytes(1, 80), bytes(0, 100), (a, b, message) => {
        const aCopy = a.slice();
        expect(hmacMd5(a, message)).toEqual(opensslHmac(a, message));
        expect(hmacMd5(b, message)).toEqual(opensslHmac(b, message));
        expect(hmacMd5(aCopy, message)).toEqual(opensslHmac(a, message));
        expect(hmacMd5(a, message)).toEqual(opensslHmac(a, message));
      }),
    );
  });
});

describe('Message-Authenticator and reply authenticators against the RFC formulas', () => {
  const attribute: fc.Arbitrary<RadiusAttribute> = fc.record({
    type: fc.integer({ min: 1, max: 255 }).filter((t) => t !== Attr.MessageAuthenticator),
    value: bytes(0, 120),
  });

  it('computeMessageAuthenticator = HMAC-MD5(packet with MA zeroed [and header authenticator swapped])', () => {
    fc.assert(
      fc.property(
        fc.array(attribute, { maxLength: 6 }),
        fc.array(attribute, { maxLength: 6 }),
        bytes(16, 16),
        bytes(16, 16),
        bytes(1, 64),
        fc.boolean(),
        (before, after, auth, header, secret, swapHeader) => {
          const ma = { type: Attr.MessageAuthenticator, value: Uint8Array.from({ length: 16 }, (_, i) => i + 1) };
          const encoded = encodePacket({
            code: Code.AccessRequest,
            identifier: 9,
            authenticator: auth,
            attributes: [...before, ma, ...after],
          });
          fc.pre(encoded.ok);
          if (!encoded.ok) return;
          const packet = encoded.value;
          const reference = packet.slice();
          const at = packet.length - after.reduce((n, a) => n + 2 + a.value.length, 0) - 16;
          reference.fill(0, at, at + 16);
          if (swapHeader) reference.set(header, 4);
          const got = computeMessageAuthenticator(packet, secret, swapHeader ? header : undefined);
          expect(got).toEqual(opensslHmac(secret, reference));
          // The input is left as it was (the computation works on a copy).
          expect(packet.subarray(at, at + 16)).toEqual(ma.value);
        },
      ),
    );
  });

  it('encodeReply signs with HMAC over the zeroed MA, then MD5(packet + secret) for the Response Authenticator', () => {
    fc.assert(
      fc.property(fc.array(attribute, { maxLength: 6 }), bytes(16, 16), bytes(1, 64), (attrs, requestAuth, secret) => {
        const reply = encodeReply({ code: Code.AccessAccept, identifier: 3, attributes: attrs }, requestAuth, secret);
        fc.pre(reply.ok);
        if (!reply.ok) return;
        const bytesOut = reply.value;
        const unsigned = bytesOut.slice();
        unsigned.set(requestAuth, 4);
        unsigned.fill(0, 22, 38);
        expect(bytesOut.subarray(22, 38)).toEqual(opensslHmac(secret, unsigned));
        expect(bytesOut.subarray(4, 20)).toEqual(computeResponseAuthenticator(bytesOut, requestAuth, secret));
        const signed = bytesOut.slice();
        signed.set(requestAuth, 4);
        expect(bytesOut.subarray(4, 20)).toEqual(opensslMd5(signed, secret));
        expect(decodePacket(bytesOut).ok).toBe(true);
      }),
    );
  });

  it('a long packet followed by a short one: nothing of the first leaks into the second', () => {
    const secret = new TextEncoder().encode('s3cret');
    const long = encodePacket({
      code: Code.AccessRequest,
      identifier: 1,
      authenticator: new Uint8Array(16).fill(1),
      attributes: [
        { type: Attr.MessageAuthenticator, value: new Uint8Array(16) },
        { type: Attr.ReplyMessage, value: new Uint8Array(250).fill(0xee) },
      ],
    });
    const short = encodePacket({
      code: Code.AccessRequest,
      identifier: 2,
      authenticator: new Uint8Array(16).fill(2),
      attributes: [{ type: Attr.MessageAuthenticator, value: new Uint8Array(16) }],
    });
    if (!long.ok || !short.ok) throw new Error('encode failed');
    computeMessageAuthenticator(long.value, secret);
    expect(computeMessageAuthenticator(short.value, secret)).toEqual(opensslHmac(secret, short.value));
  });
});
