import type { AuthRequest } from '../wire/schemas.ts';
import { userGateName } from './keys.ts';
import type { GateLimits } from './limits.ts';
import type { GateOutcome, UserGate } from './user-gate.ts';

/** What the `/v1/auth` route calls: routes the login through the user's gate object. */
export function gateAuth(
  ns: DurableObjectNamespace<UserGate>,
  site: string,
  request: AuthRequest,
  limits: GateLimits,
): Promise<GateOutcome> {
  return ns.getByName(userGateName(site, request.username)).auth({ site, request, limits });
}
