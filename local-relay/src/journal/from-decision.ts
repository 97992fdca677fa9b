import { factorSchema } from '../../../src/wire/schemas.ts';
import type { FlowDecision } from '../flow/decision.ts';
import type { JournalEntry } from './record.ts';

/**
 * The journal holds the decisions the edge never saw: the relay's own failmode decisions, and
 * exemptions it applied from its cached site policy. Everything else is in the edge's log already
 * (or is not a decision: challenges, malformed requests, primary-auth rejects).
 */
export function journalEntryOf(d: FlowDecision): JournalEntry | null {
  if (d.result === 'challenge') return null;
  if (d.source !== 'failmode-relay' && d.source !== 'exempt') return null;
  const factor = factorSchema.safeParse(d.factor);
  return {
    id: d.id,
    time: d.at,
    username: d.user,
    nas_ip: d.nasIp,
    client_ip: d.clientIp ?? null,
    stage: d.stage === 'auth' ? 'auth' : 'preauth',
    factor: factor.success ? factor.data : null,
    result: d.result,
    reason: d.edgeFailure ? `${d.reason} (${d.edgeFailure})` : d.reason,
    source: d.source,
    latency_ms: Math.max(0, Math.round(d.latencyMs)),
  };
}
