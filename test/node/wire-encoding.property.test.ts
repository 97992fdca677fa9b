import { fromBase64Url, MAX_BASE64_CHARS, toBase64, toBase64Url } from '@duo-edge/contract/encoding';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const bytes = fc.uint8Array({ maxLength: 3 * 1024 });

describe('fromBase64Url', () => {
  it('decodes what toBase64Url and toBase64 encode, byte for byte', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(fromBase64Url(toBase64Url(b))).toEqual(b);
        expect(fromBase64Url(toBase64(b))).toEqual(b);
      }),
    );
  });

  it('any text: null, or one alphabet only, padding at the end only, 3 bytes per 4 characters', () => {
    const alphabet = fc.constantFrom(...'AZaz09-_+/=!. \n'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 300 }), (s) => {
        const out = fromBase64Url(s);
        if (out === null) return;
        const unpadded = s.replace(/=*$/, '');
        expect(/^[A-Za-z0-9_-]*$/.test(unpadded) || /^[A-Za-z0-9+/]*$/.test(unpadded)).toBe(true);
        expect(out.length).toBe(Math.floor((unpadded.length * 3) / 4));
      }),
    );
  });

  it('refuses anything longer than the bound, whatever it holds', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: MAX_BASE64_CHARS + 1, maxLength: MAX_BASE64_CHARS + 64 }),
        fc.constantFrom('', '=', 'A'),
        (s, fill) => {
          expect(fromBase64Url(fill ? fill.repeat(s.length) : s)).toBeNull();
        },
      ),
      { numRuns: 50 },
    );
  });

  it('a long run of padding that does not end the text is refused (the old quadratic case)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_BASE64_CHARS - 1 }), fc.constantFrom('x', '!', 'A'), (n, tail) => {
        expect(fromBase64Url(`${'='.repeat(n)}${tail}`)).toBeNull();
      }),
      { numRuns: 50 },
    );
  });
});
