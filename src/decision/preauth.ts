import { REPLY } from '@duo-edge/contract/messages';
import { assertNever } from '@duo-edge/contract/result';
import type { PreauthRequest, PreauthResponse } from '@duo-edge/contract/wire';
import type { DuoPreauth } from '../duo/api.ts';
import type { DuoError } from '../duo/result.ts';
import type { DecisionDeps } from './deps.ts';
import { failmodeAnswer } from './failure.ts';

export interface PreauthDecision {
  response: PreauthResponse;
  /** Set when Duo failed and the failmode decided; for logs and the audit reason. */
  duoError?: DuoError;
  /** Set when a primary-only override decided; for the audit reason. */
  override?: { actor: string; reason: string };
}

/**
 * Preauth: exempt users skip Duo; so does a login with a passed primary while an admin's
 * primary-only override holds; otherwise Duo's answer, or the site failmode when Duo fails. An
 * exemption only waives the second factor of a login whose password was checked: without a passed
 * primary (duo_only) it would let a bare username in, so that login goes to Duo like any other.
 */
export async function decidePreauth(deps: DecisionDeps, req: PreauthRequest): Promise<PreauthDecision> {
  const { site, duo } = deps;
  if (req.primary === 'passed' && site.exemptUsernames.has(req.username)) {
    return { response: { result: 'allow', message: REPLY.exempt, source: 'exempt' } };
  }
  // An override waives the second factor only: without a passed primary it never applies.
  const override = req.primary === 'passed' ? await deps.override?.() : null;
  if (override) {
    return { response: { result: 'allow', message: REPLY.override, source: 'override' }, override };
  }
  const r = await duo.preauth(
    { username: req.username, ...(req.client_ip ? { ipaddr: req.client_ip } : {}) },
    { deadline: deps.now() + site.options.preauth_deadline_ms },
  );
  if (!r.ok) return { response: failmodeAnswer(site, 'preauth', req.primary, r.error), duoError: r.error };
  return { response: fromDuo(r.value) };
}

function fromDuo(p: DuoPreauth): PreauthResponse {
  switch (p.result) {
    case 'auth':
      return {
        result: 'auth',
        message: p.status_msg,
        source: 'duo',
        devices: p.devices,
        ...(p.prompt !== undefined ? { prompt: p.prompt } : {}),
        factors: p.factors ?? {},
      };
    case 'allow':
    case 'deny':
      return { result: p.result, message: p.status_msg, source: 'duo' };
    case 'enroll':
      return {
        result: 'enroll',
        message: p.status_msg,
        source: 'duo',
        ...(p.enroll_portal_url !== undefined ? { enroll_portal_url: p.enroll_portal_url } : {}),
      };
    default:
      return assertNever(p);
  }
}
