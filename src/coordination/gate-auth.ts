import type { Result } from '@duo-edge/contract/result';
import type { AuthRequest } from '@duo-edge/contract/wire';
import { userGateName } from './keys.ts';
import type { GateLimits } from './limits.ts';
import type { GateOutcome, UserGate } from './user-gate.ts';

/** What the `/v1/auth` route calls: routes the login through the user's gate object. */
export function gateAuth(
  ns: DurableObjectNamespace<UserGate>,
  call: { site: string; relayKey: string; nonce: string },
  request: AuthRequest,
  limits: GateLimits,
): Promise<Result<GateOutcome, 'replayed'>> {
  return ns.getByName(userGateName(call.site, request.username)).auth({ ...call, request, limits });
}
