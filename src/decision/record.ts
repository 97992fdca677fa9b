import type { DecisionRecord } from '@duo-edge/contract/audit';
import type { Context } from 'hono';
import type { DuoError } from '../duo/result.ts';
import type { RelayEnv } from '../edge/relay-env.ts';
import { logEvent } from '../log.ts';
import { describeDuoError } from './failure.ts';

/**
 * The one place a decision leaves the edge's hands: logged when Duo failed, and handed to the
 * decision recorder. A recorder failure is logged, not turned into a refusal of the login.
 */
export async function record(
  c: Context<RelayEnv>,
  stage: 'preauth' | 'auth',
  duoError: DuoError | undefined,
  build: (meta: { site: string; relay: string; endedAt: number }) => DecisionRecord | null,
): Promise<void> {
  const { edge, site, relayKey } = c.var;
  if (duoError) logEvent('warn', 'duo_failed', { site: site.id, stage, failure: describeDuoError(duoError) });
  const rec = build({ site: site.id, relay: relayKey, endedAt: edge.now() });
  if (!rec) return;
  try {
    await edge.recorder.record(rec);
  } catch (e) {
    logEvent('error', 'decision_record_failed', {
      site: site.id,
      stage,
      error: e instanceof Error ? e.name : 'unknown',
    });
  }
}
