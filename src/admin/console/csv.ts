import type { StoredDecision } from '@duo-edge/contract/audit';

export const CSV_COLUMNS = [
  'id',
  'time',
  'site',
  'relay',
  'username',
  'nas_ip',
  'nas_identifier',
  'client_ip',
  'stage',
  'factor',
  'result',
  'source',
  'reason',
  'latency_ms',
] as const satisfies ReadonlyArray<keyof StoredDecision>;

/**
 * One CSV field (RFC 4180 quoting). Usernames and reasons come from the network, so a field a
 * spreadsheet would run as a formula gets a leading apostrophe.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvRow = (d: StoredDecision): string =>
  CSV_COLUMNS.map((k) => csvField(k === 'time' ? new Date(d.time).toISOString() : d[k])).join(',');
