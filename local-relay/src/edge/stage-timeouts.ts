import { DEFAULT_EDGE_DEADLINES, type SitePolicy } from '@duo-edge/contract/wire';

/**
 * The relay's per-stage timeout must outlast the edge's deadline for that stage: otherwise a slow
 * Duo answer (a 429 back-off included), which the edge decides itself, looks like an edge outage
 * to the relay and can fail open. The edge's deadlines come from the signed site policy (the edge's
 * defaults until one is known); a configured timeout that is too short is raised, never trusted.
 */
export const EDGE_DEADLINE_MARGIN_MS = 2_000;

export interface StageTimeout {
  key: 'edge.preauth_timeout_ms' | 'edge.auth_timeout_ms';
  configuredMs: number;
  edgeDeadlineMs: number;
  /** Whose deadline: the signed site policy's, or the edge's default before a policy is known. */
  deadlineFrom: 'site policy' | 'edge default';
  effectiveMs: number;
  corrected: boolean;
}

export function stageTimeouts(
  edge: { preauth_timeout_ms: number; auth_timeout_ms: number },
  policy: SitePolicy | undefined,
): { preauth: StageTimeout; auth: StageTimeout } {
  const deadlines = policy?.options ?? DEFAULT_EDGE_DEADLINES;
  const deadlineFrom = policy?.options ? 'site policy' : 'edge default';
  const one = (key: StageTimeout['key'], configuredMs: number, edgeDeadlineMs: number): StageTimeout => {
    const floor = edgeDeadlineMs + EDGE_DEADLINE_MARGIN_MS;
    return {
      key,
      configuredMs,
      edgeDeadlineMs,
      deadlineFrom,
      effectiveMs: Math.max(configuredMs, floor),
      corrected: configuredMs < floor,
    };
  };
  return {
    preauth: one('edge.preauth_timeout_ms', edge.preauth_timeout_ms, deadlines.preauth_deadline_ms),
    auth: one('edge.auth_timeout_ms', edge.auth_timeout_ms, deadlines.auth_deadline_ms),
  };
}

export function correctionText(t: StageTimeout): string {
  return (
    `${t.key} = ${t.configuredMs} does not exceed the edge's ${t.deadlineFrom === 'site policy' ? '' : 'default '}` +
    `deadline ${t.edgeDeadlineMs} ms + ${EDGE_DEADLINE_MARGIN_MS} ms; using ${t.effectiveMs} ms ` +
    `(raise ${t.key} to at least ${t.effectiveMs})`
  );
}
