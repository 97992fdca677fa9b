/**
 * One JSON line per event (Workers Logs indexes JSON fields). Callers pass identifiers and kinds
 * only: never request bodies, passcodes, config values or keys.
 */
export function logEvent(level: 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
