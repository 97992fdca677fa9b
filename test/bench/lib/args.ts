import { parseArgs } from 'node:util';

type ArgValues<D> = { [K in keyof D]: D[K] extends number ? number : string };

/**
 * `--name value` flags for a benchmark script, each with its default; a flag whose default is a
 * number must parse as one (a typo fails the run instead of measuring with NaN).
 */
export function benchArgs<const D extends Record<string, number | string>>(defaults: D): ArgValues<D> {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, value]) => [name, { type: 'string' as const, default: String(value) }]),
  );
  const { values } = parseArgs({ options });
  const out: Record<string, number | string> = {};
  for (const [name, fallback] of Object.entries(defaults)) {
    const raw = String(values[name]);
    if (typeof fallback === 'string') {
      out[name] = raw;
      continue;
    }
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name}: a number, not "${raw}"`);
    out[name] = n;
  }
  return out as ArgValues<D>;
}
