import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSmallUint, readTlv, tlv, uintBytes } from '../../local-relay/src/ldap/ber.ts';
import { MessageFramer } from '../../local-relay/src/ldap/framing.ts';
import { decodeBindRequest, decodeEnvelope, encodeSimpleBind } from '../../local-relay/src/ldap/message.ts';

/** Properties of the LDAP BER codec over generated messages and arbitrary bytes. */

type Node = { tag: number; bytes: Uint8Array } | { tag: number; children: Node[] };

const primitiveTag = fc.constantFrom(0x04, 0x02, 0x0a, 0x01, 0x80, 0x87, 0x8a);
const constructedTag = fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa3, 0xa7);
const { node } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ tag: primitiveTag, bytes: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ tag: constructedTag, children: fc.array(tie('node'), { maxLength: 4 }) }),
  ),
}));

const encode = (n: Node): Uint8Array => ('bytes' in n ? tlv(n.tag, n.bytes) : tlv(n.tag, ...n.children.map(encode)));
const depth = (n: Node): number => ('bytes' in n ? 0 : 1 + Math.max(0, ...n.children.map(depth)));

const message = fc.record({
  id: fc.integer({ min: 0, max: 0x7fffffff }),
  opNumber: fc.integer({ min: 0, max: 25 }),
  opChildren: fc.array(node, { maxLength: 4 }),
  controls: fc.option(fc.array(node, { maxLength: 2 }), { nil: undefined }),
});

type Message = typeof message extends fc.Arbitrary<infer T> ? T : never;

const toMessage = (m: Message) =>
  tlv(
    0x30,
    tlv(0x02, uintBytes(m.id)),
    tlv(0x60 | m.opNumber, ...m.opChildren.map(encode)),
    ...(m.controls ? [tlv(0xa0, ...m.controls.map(encode))] : []),
  );

describe('LDAP codec properties', () => {
  it('every well-formed message within the depth bound decodes to its ID and operation', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = toMessage(m);
        const levels = 2 + Math.max(0, ...m.opChildren.map(depth), ...(m.controls ?? []).map(depth));
        const env = decodeEnvelope(bytes, 64);
        expect(env.ok).toBe(true);
        if (!env.ok) return;
        expect(env.value.messageId).toBe(m.id);
        expect(env.value.opTag).toBe(0x60 | m.opNumber);
        expect(env.value.controls !== undefined).toBe(m.controls !== undefined);
        // The same message with a bound one level too tight is refused.
        expect(decodeEnvelope(bytes, levels - 1)).toEqual({ ok: false, error: 'too_deep' });
      }),
    );
  });

  it('arbitrary bytes never throw: a typed result, and a decoded message reads back from its own bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const env = decodeEnvelope(bytes, 8);
        expect(typeof env.ok).toBe('boolean');
        if (env.ok && env.value.opTag === 0x60) expect(typeof decodeBindRequest(bytes, env.value).ok).toBe('boolean');
        const t = readTlv(bytes, 0, bytes.length);
        if (t.ok) expect(t.value.end).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 2_000 },
    );
  });

  it('a stream of messages frames the same however it is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (ms, cuts) => {
          const msgs = ms.map(toMessage);
          const stream = Buffer.concat(msgs);
          const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const framer = new MessageFramer(1 << 20);
          const out: Uint8Array[] = [];
          let from = 0;
          for (const end of [...at, stream.length]) {
            const r = framer.push(stream.subarray(from, end));
            from = end;
            expect(r.ok).toBe(true);
            if (r.ok) out.push(...r.value);
          }
          expect(out.map((b) => Buffer.from(b).toString('hex'))).toEqual(
            msgs.map((b) => Buffer.from(b).toString('hex')),
          );
        },
      ),
    );
  });

  it('message IDs and simple binds round-trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        (id, name, password) => {
          const t = tlv(0x02, uintBytes(id));
          expect(
            readSmallUint(t, { tag: 2, start: 0, contentStart: t.length - uintBytes(id).length, end: t.length }),
          ).toEqual({
            ok: true,
            value: id,
          });
          const msg = encodeSimpleBind(id, name, password);
          const env = decodeEnvelope(msg, 8);
          expect(env.ok && env.value.messageId).toBe(id);
          const bind = env.ok ? decodeBindRequest(msg, env.value) : undefined;
          expect(bind?.ok && Buffer.from(bind.value.name).equals(name)).toBe(true);
          expect(
            bind?.ok && bind.value.auth.kind === 'simple' && Buffer.from(bind.value.auth.password).equals(password),
          ).toBe(true);
        },
      ),
    );
  });
});
