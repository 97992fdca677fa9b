import type { AuditResult, DecisionRecord } from '@duo-edge/contract/audit';
import type { Stage } from '@duo-edge/contract/failmode';
import type {
  AuthRequest,
  AuthResponse,
  DecisionSource,
  Factor,
  PreauthRequest,
  PreauthResponse,
} from '@duo-edge/contract/wire';

/**
 * Every final decision the edge makes passes through one DecisionRecorder, as the contract's
 * decision record: the audit log stores it as it is.
 */
export interface DecisionRecorder {
  record(rec: DecisionRecord): Promise<void>;
}

export const noopRecorder: DecisionRecorder = { record: async () => {} };

interface RecordInput {
  site: string;
  relay: string;
  startedAt: number;
  endedAt: number;
}

/** A preauth only ends the login when it is not `auth`; enrolment ends it with a reject. */
export function preauthRecord(input: RecordInput, req: PreauthRequest, res: PreauthResponse): DecisionRecord | null {
  if (res.result === 'auth') return null;
  const result = res.result === 'allow' ? 'allow' : 'deny';
  const source = res.result === 'enroll' ? 'duo' : res.source;
  const failure = res.result === 'enroll' ? undefined : res.failmode?.failure;
  return base(input, req, 'preauth', null, result, source, reason(res.message, failure));
}

export function authRecord(input: RecordInput, req: AuthRequest, res: AuthResponse): DecisionRecord {
  return base(input, req, 'auth', req.factor, res.result, res.source, reason(res.message, res.failmode?.failure));
}

const reason = (message: string, failure: string | undefined) => (failure ? `${message} (${failure})` : message);

function base(
  input: RecordInput,
  req: PreauthRequest | AuthRequest,
  stage: Stage,
  factor: Factor | null,
  result: AuditResult,
  source: DecisionSource,
  why: string,
): DecisionRecord {
  return {
    id: crypto.randomUUID(),
    time: input.endedAt,
    site: input.site,
    relay: input.relay,
    username: req.username,
    nas_ip: req.nas.ip ?? null,
    nas_identifier: req.nas.identifier ?? null,
    client_ip: req.client_ip ?? null,
    stage,
    factor,
    result,
    reason: why,
    source,
    latency_ms: Math.max(0, Math.round(input.endedAt - input.startedAt)),
  };
}
