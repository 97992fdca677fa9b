import { availableParallelism, cpus, release, totalmem } from 'node:os';

/** Small numeric helpers and a plain-text table, shared by the end-to-end benchmarks. */

export function percentile(sorted: ReadonlyArray<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: ReadonlyArray<number>): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, mean, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 };
}

export const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-');

export function table(headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: ReadonlyArray<string>) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/** The machine line every benchmark prints above its tables. */
function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  return `${cpu} × ${availableParallelism()} · ${(totalmem() / 2 ** 30).toFixed(1)} GiB · Linux ${release()} · Node ${process.version}`;
}

/** A benchmark's title with the machine line, then `detail` (if any) and a blank line before its table. */
export function printHeader(title: string, detail?: string): void {
  console.log(`\n${title} — ${machine()}`);
  console.log(detail === undefined ? '' : `${detail}\n`);
}

export const sleep = (msDelay: number): Promise<void> => new Promise((r) => setTimeout(r, msDelay));
