/** Times as admins read them: ISO in UTC, ages rounded to one unit. */

export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** A relay key shortened for display when its config entry has no name. */
export const shortKey = (key: string): string => `${key.slice(0, 8)}…`;
