import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { octetCounted } from '../../local-relay/src/ops/syslog/format.ts';
import { parseOctetCounted } from '../support/syslog-receiver.ts';

describe('octet-counted framing', () => {
  it('any messages (newlines, spaces, any Unicode), cut into any chunks, come back whole and in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, cuts) => {
          const stream = Buffer.concat(messages.map(octetCounted));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const got: string[] = [];
          let pending: Buffer = Buffer.alloc(0);
          let from = 0;
          for (const to of [...points, stream.length]) {
            const parsed = parseOctetCounted(Buffer.concat([pending, stream.subarray(from, to)]));
            expect(parsed.error).toBeUndefined();
            got.push(...parsed.messages);
            pending = parsed.rest;
            from = to;
          }
          expect(got).toEqual(messages);
          expect(pending.length).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
