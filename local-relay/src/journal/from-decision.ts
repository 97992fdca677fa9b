import { factorSchema } from '@duo-edge/contract/wire';
import type { FlowDecision } from '../flow/decision.ts';
import type { JournalEntry } from './record.ts';

/**
 * The journal holds the decisions the edge never saw: the relay's own failmode decisions, and
 * exemptions it applied itself (section or cached site list, decided right after the primary).
 * Everything else is in the edge's log already: an exemption the edge answered at preauth was
 * audited there, and journalling it too would count that login twice. Challenges, malformed
 * requests and primary-auth rejects are not decisions the log holds.
 */
export function journalEntryOf(d: FlowDecision): JournalEntry | null {
  if (d.result === 'challenge') return null;
  const source =
    d.source === 'failmode-relay' || (d.source === 'exempt' && d.stage === 'primary') ? d.source : undefined;
  if (!source) return null;
  const factor = factorSchema.safeParse(d.factor);
  return {
    id: d.id,
    time: d.time,
    username: d.username,
    nas_ip: d.nas_ip,
    client_ip: d.client_ip ?? null,
    stage: d.stage === 'auth' ? 'auth' : 'preauth',
    factor: factor.success ? factor.data : null,
    result: d.result,
    reason: d.edge_failure ? `${d.reason} (${d.edge_failure})` : d.reason,
    source,
    latency_ms: Math.max(0, Math.round(d.latency_ms)),
  };
}
