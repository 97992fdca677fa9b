import type { DecisionRecorder } from '../decision/audit-hook.ts';
import { recordDecision } from './store.ts';

/** The edge's decision recorder: every decision the edge makes goes to the D1 audit log. */
export const d1Recorder = (db: D1Database): DecisionRecorder => ({
  record: (rec) => recordDecision(db, rec),
});
