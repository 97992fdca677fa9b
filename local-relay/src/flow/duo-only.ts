import { REPLY } from '@duo-edge/contract/messages';
import type { EdgeApi } from '../edge/client.ts';
import type { FlowDeps } from './deps.ts';
import { isFactorToken, parseFactorToken } from './factor-token.ts';
import { type CommonFlowOptions, Login } from './login.ts';
import { FLOW_REPLY } from './messages.ts';
import type { LoginFlow } from './types.ts';

export interface DuoOnlyFlowOptions extends CommonFlowOptions {
  /**
   * `duo_only_failopen_acknowledged`: the operator accepted that with failmode safe an edge outage
   * lets anyone who knows a username in. Without it, duo_only never fails open.
   */
  failOpenAcknowledged: boolean;
}

/** radius_server_duo_only: no primary; the password is the factor (`push`, `phone`, a passcode). */
export function createDuoOnlyFlow(opts: DuoOnlyFlowOptions, deps: FlowDeps): LoginFlow {
  const flowDeps: FlowDeps = { ...deps, edge: refusingExemptions(deps.edge) };
  return {
    async handle(req) {
      const login = new Login(req, flowDeps, 'duo_only', opts);
      const bad = login.checkRequest();
      if (bad) return bad;
      if (!isFactorToken(req.password!)) return login.reject('request', 'relay', FLOW_REPLY.badPassword);

      // The edge is told `primary: none`; only the relay's own failmode honours the acknowledgement.
      const pre = await login.preauth(opts.failOpenAcknowledged);
      if ('done' in pre) return pre.done;
      if ('enroll' in pre) return login.enrollReject(pre.enroll);
      return login.auth(parseFactorToken(req.password!, pre.auth.devices)!, opts.failOpenAcknowledged);
    },
  };
}

/**
 * An exemption or an admin's primary-only override waives the second factor of a checked password,
 * and duo_only checks none: such a preauth answer (from an edge that predates this rule) would let a
 * bare username in, so it is turned into a deny before the flow sees it.
 */
const WAIVERS: ReadonlySet<string> = new Set(['exempt', 'override']);

function refusingExemptions(edge: EdgeApi): EdgeApi {
  return {
    auth: (r) => edge.auth(r),
    async preauth(r) {
      const answer = await edge.preauth(r);
      if (answer.kind === 'ok' && answer.value.result === 'allow' && WAIVERS.has(answer.value.source)) {
        return { kind: 'ok', value: { result: 'deny', message: REPLY.failSecureDenied, source: 'policy' } };
      }
      return answer;
    },
  };
}
