import type { AuditResult, DecisionRecord } from '@duo-edge/contract/audit';
import type { DecisionSource } from '@duo-edge/contract/wire';
import type { LoginRequest } from './types.ts';

export type FlowMode = 'auto' | 'challenge' | 'concat' | 'duo_only';

/** `request`: malformed request or unknown challenge; `primary`: password check (and exemption). */
export type DecisionStage = DecisionRecord['stage'] | 'request' | 'primary' | 'challenge';

/** The wire's sources plus two the relay alone produces. */
export type FlowDecisionSource = DecisionSource | 'primary' | 'relay';

/**
 * One decision of a login flow, handed to `onDecision` for the auth-event log, metrics and the
 * offline journal: the contract's decision record with the same field names, as far as the flow
 * knows it. It adds what only the relay sees (flow mode, why the edge could not answer) and
 * stages, results and sources that never reach the audit log (challenges, primary rejects); the
 * site, relay key and NAS-Identifier are not the flow's to know. `id` is stable, so the journal's
 * upload of it is idempotent.
 */
export type FlowDecision = Pick<DecisionRecord, 'id' | 'time' | 'username' | 'reason'> & {
  mode: FlowMode;
  nas_ip: string;
  client_ip?: string;
  stage: DecisionStage;
  /** Factor used or asked for (`push`, `passcode`, …), when one was chosen. */
  factor?: string;
  result: AuditResult | 'challenge';
  source: FlowDecisionSource;
  /** Why the edge could not answer, for failmode-relay decisions. */
  edge_failure?: string;
  latency_ms: number;
};

/**
 * Called once per decision. A returned promise (the journal's fsync) is awaited before the reply
 * goes to the NAS: a decision the NAS has seen is on disk, even after a kill -9. `req` is the
 * request decided (the flow uses it to find what to await for that request).
 */
export type DecisionHook = (d: FlowDecision, req: LoginRequest) => unknown;
