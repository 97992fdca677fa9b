/**
 * Just enough RFC 4514 DN reading for exemptions and usernames: split into RDNs on unescaped
 * commas, each `type=value` with `\,`-style and `\XX` hex escapes undone. Comparison is
 * case-insensitive with spaces around separators ignored, as directories compare DNs.
 */

export interface Rdn {
  type: string;
  value: string;
}

/** undefined: not a DN this reader accepts (a UPN, `CORP\alice`, a multi-valued RDN, bad escapes). */
export function parseDn(name: string): Rdn[] | undefined {
  const rdns: Rdn[] = [];
  let type = '';
  let value = '';
  let inValue = false;
  const bytes: number[] = [];
  const flushBytes = () => {
    if (bytes.length > 0) value += Buffer.from(bytes).toString('utf8');
    bytes.length = 0;
  };
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\') {
      const hex = name.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else if (i + 1 < name.length) {
        flushBytes();
        (inValue ? (v: string) => (value += v) : (t: string) => (type += t))(name[++i]!);
      } else return undefined;
      continue;
    }
    flushBytes();
    if (!inValue) {
      if (c === '=') inValue = true;
      else if (c === ',' || c === '+') return undefined;
      else type += c;
    } else if (c === '+') {
      // Multi-valued RDNs are refused rather than half-read: no exemption or username from them.
      return undefined;
    } else if (c === ',') {
      rdns.push({ type: type.trim(), value: value.trim() });
      type = '';
      value = '';
      inValue = false;
    } else value += c;
  }
  flushBytes();
  if (!inValue || type.trim() === '') return undefined;
  rdns.push({ type: type.trim(), value: value.trim() });
  return rdns.every((r) => /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/.test(r.type)) ? rdns : undefined;
}

const key = (rdns: ReadonlyArray<Rdn>) => rdns.map((r) => `${r.type.toLowerCase()}=${r.value.toLowerCase()}`);

/** `dn` is `base` or an entry below it. */
export function isAtOrUnder(dn: ReadonlyArray<Rdn>, base: ReadonlyArray<Rdn>): boolean {
  if (base.length === 0 || base.length > dn.length) return false;
  const a = key(dn).slice(dn.length - base.length);
  const b = key(base);
  return a.every((v, i) => v === b[i]);
}
