import { numberedDevice, parseNumberedFactor } from '@duo-edge/contract/factors';
import { REPLY } from '@duo-edge/contract/messages';
import { err, ok, type Result } from '@duo-edge/contract/result';
import type { AuthRequest, AuthResponse } from '@duo-edge/contract/wire';
import type { AuthParams } from '../duo/api.ts';
import type { DuoError } from '../duo/result.ts';
import type { DecisionDeps } from './deps.ts';
import { failmodeAnswer } from './failure.ts';

export interface AuthDecision {
  response: AuthResponse;
  duoError?: DuoError;
}

/**
 * `/v1/auth`: one Duo auth for one login. The single entry point a per-user coordination object
 * wraps to join concurrent attempts and apply push limits.
 */
export async function decideAuth(deps: DecisionDeps, req: AuthRequest): Promise<AuthDecision> {
  const { site, duo } = deps;
  const deadline = deps.now() + site.options.auth_deadline_ms;
  const target = await resolveTarget(deps, req, deadline);
  if (!target.ok) {
    if (target.error === 'no_device')
      return { response: { result: 'deny', message: REPLY.noFactors, source: 'policy' } };
    return { response: failmodeAnswer(site, 'auth', req.primary, target.error), duoError: target.error };
  }
  const params: AuthParams = {
    username: req.username,
    ...target.value,
    ...(req.passcode !== undefined ? { passcode: req.passcode } : {}),
    ...(req.client_ip ? { ipaddr: req.client_ip } : {}),
    ...(req.pushinfo ? { pushinfo: req.pushinfo } : {}),
  };
  // Only out-of-band factors wait for a human; those poll instead of holding one request ~60 s.
  const waits = params.factor !== 'passcode' && params.factor !== 'sms';
  const r =
    waits && site.options.push_async ? await duo.authAsync(params, { deadline }) : await duo.auth(params, { deadline });
  if (!r.ok) return { response: failmodeAnswer(site, 'auth', req.primary, r.error), duoError: r.error };
  return { response: { result: r.value.result, message: r.value.status_msg, source: 'duo', status: r.value.status } };
}

type Target = Pick<AuthParams, 'factor' | 'device'>;

/**
 * Auth API v2 takes a device id, not a numbered factor name, so a name is resolved against the
 * user's devices in Duo's preauth order.
 */
async function resolveTarget(
  deps: DecisionDeps,
  req: AuthRequest,
  deadline: number,
): Promise<Result<Target, DuoError | 'no_device'>> {
  if (req.factor === 'passcode') return ok({ factor: 'passcode' });
  const numbered = parseNumberedFactor(req.device);
  if (!numbered) return ok({ factor: req.factor, device: req.device });
  const { kind, n } = numbered;
  if (req.factor !== 'auto' && req.factor !== kind) return err('no_device');
  const pre = await deps.duo.preauth(
    { username: req.username, ...(req.client_ip ? { ipaddr: req.client_ip } : {}) },
    { deadline },
  );
  if (!pre.ok) return err(pre.error);
  if (pre.value.result !== 'auth') return err('no_device');
  const device = numberedDevice(pre.value.devices, kind, n);
  return device ? ok({ factor: kind, device: device.device }) : err('no_device');
}
