import type { IniSection } from './ini.ts';

export type NoteKind =
  /** Not carried over: the relay has no equivalent. */
  | 'unsupported'
  /** Not an option Duo's proxy knows for this section (typo, or a newer proxy's option). */
  | 'unknown'
  /** Carried over only after the admin acts (a protected secret to re-enter, a placeholder to fill). */
  | 'manual'
  /** Carried over, but the relay behaves differently. */
  | 'changed';

export interface ImportNote {
  kind: NoteKind;
  section: string;
  key?: string;
  reason: string;
}

/**
 * Reads one section's options and remembers which were used: whatever nobody read is reported as
 * unknown at the end, so no option is ever dropped silently.
 */
export class SectionReader {
  readonly section: IniSection;
  readonly #notes: ImportNote[];
  readonly #seen = new Set<string>();

  constructor(section: IniSection, notes: ImportNote[]) {
    this.section = section;
    this.#notes = notes;
  }

  get name(): string {
    return this.section.name;
  }

  /** The raw value, marking the key as handled. */
  take(key: string): string | undefined {
    this.#seen.add(key);
    return this.section.values.get(key);
  }

  has(key: string): boolean {
    return this.section.values.has(key);
  }

  bool(key: string): boolean | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (/^(true|yes|on|1)$/i.test(v)) return true;
    if (/^(false|no|off|0)$/i.test(v)) return false;
    this.note('unsupported', key, `not a boolean (${v})`);
    return undefined;
  }

  number(key: string): number | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) {
      this.note('unsupported', key, `not a number (${v})`);
      return undefined;
    }
    return n;
  }

  /** Keys `prefix1`, `prefix2`, … (or `prefix_1` …) that exist, by number. */
  numbered(prefix: string): Array<{ n: number; key: string }> {
    const out: Array<{ n: number; key: string }> = [];
    for (const key of this.section.values.keys()) {
      const m = new RegExp(`^${prefix}(\\d+)$`).exec(key);
      if (m) out.push({ n: Number(m[1]), key });
    }
    return out.sort((a, b) => a.n - b.n);
  }

  note(kind: NoteKind, key: string | undefined, reason: string): void {
    this.#seen.add(key ?? '');
    this.#notes.push({ kind, section: this.name, ...(key === undefined ? {} : { key }), reason });
  }

  /** Every key as unsupported, for a section the relay cannot carry at all. */
  rejectAll(reason: string): void {
    const keys = [...this.section.values.keys()];
    this.#notes.push({
      kind: 'unsupported',
      section: this.name,
      reason: keys.length > 0 ? `${reason} (options: ${keys.join(', ')})` : reason,
    });
    for (const k of keys) this.#seen.add(k);
  }

  /** Reports what no converter read. */
  finish(): void {
    for (const key of this.section.values.keys()) {
      if (!this.#seen.has(key))
        this.note('unknown', key, "not an option of this section in Duo's proxy; not carried over");
    }
  }
}
