import type { DecisionSource } from '@duo-edge/contract/wire';

/**
 * One decision of a login flow, handed to `onDecision` for the auth-event log and metrics
 * (issue 6) and the offline journal (issue 5: `id` is stable for idempotent upload).
 */
export type FlowMode = 'auto' | 'challenge' | 'concat' | 'duo_only';

/** `request`: malformed request or unknown challenge; `primary`: password check (and exemption). */
export type DecisionStage = 'request' | 'primary' | 'preauth' | 'auth' | 'challenge';

/** The wire's sources plus two the relay alone produces. */
export type FlowDecisionSource = DecisionSource | 'primary' | 'relay';

export interface FlowDecision {
  id: string;
  /** Epoch ms when the decision was made. */
  at: number;
  mode: FlowMode;
  user: string;
  nasIp: string;
  clientIp?: string;
  stage: DecisionStage;
  /** Factor used or asked for (`push`, `passcode`, …), when one was chosen. */
  factor?: string;
  result: 'allow' | 'deny' | 'challenge';
  /** The Reply-Message sent, or the reason when none is. */
  reason: string;
  source: FlowDecisionSource;
  /** Why the edge could not answer, for failmode-relay decisions. */
  edgeFailure?: string;
  latencyMs: number;
}

/**
 * Called once per decision. A returned promise (the journal's fsync) is awaited before the reply
 * goes to the NAS: a decision the NAS has seen is on disk, even after a kill -9.
 */
export type DecisionHook = (d: FlowDecision) => unknown;
