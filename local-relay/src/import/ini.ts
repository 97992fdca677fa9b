/**
 * authproxy.cfg as Duo's proxy reads it (Python ConfigParser): `[section]` headers, `key = value`
 * or `key: value`, `;` and `#` comment lines, indented continuation lines, keys case-insensitive.
 * Problems are reported, not thrown: an importer must say what it skipped.
 */

export interface IniSection {
  name: string;
  /** Line of the header, for messages. */
  line: number;
  /** Lower-cased keys in file order. */
  values: Map<string, string>;
}

export interface IniFile {
  sections: IniSection[];
  problems: Array<{ line: number; message: string }>;
}

export function parseIni(text: string): IniFile {
  const sections: IniSection[] = [];
  const problems: IniFile['problems'] = [];
  let current: IniSection | undefined;
  let lastKey: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*([;#].*)?$/.test(raw)) return;
    if (/^\s/.test(raw) && current && lastKey !== undefined) {
      current.values.set(lastKey, `${current.values.get(lastKey)}\n${raw.trim()}`);
      return;
    }
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      const name = header[1]!.trim();
      if (sections.some((s) => s.name === name)) problems.push({ line, message: `section [${name}] repeated` });
      current = { name, line, values: new Map() };
      sections.push(current);
      lastKey = undefined;
      return;
    }
    const kv = /^\s*([^=:\s][^=:]*?)\s*[=:]\s*(.*?)\s*$/.exec(raw);
    if (!kv) {
      problems.push({ line, message: 'not a `key = value` line' });
      return;
    }
    if (!current) {
      problems.push({ line, message: `${kv[1]} is outside any section` });
      return;
    }
    const key = kv[1]!.toLowerCase();
    if (current.values.has(key))
      problems.push({ line, message: `[${current.name}] ${key} repeated; the last one is used` });
    current.values.set(key, kv[2]!);
    lastKey = key;
  });
  return { sections, problems };
}

/** `[radius_server_auto2]` is another `radius_server_auto` (Duo strips trailing digits). */
export const sectionType = (name: string): string => name.replace(/\d+$/, '');
