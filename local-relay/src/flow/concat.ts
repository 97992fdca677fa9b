import { type ConcatOptions, splitConcat } from './concat-split.ts';
import type { FlowDeps } from './deps.ts';
import { isFactorToken, parseFactorToken } from './factor-token.ts';
import { type CommonFlowOptions, Login } from './login.ts';
import { FLOW_REPLY } from './messages.ts';
import type { LoginFlow } from './types.ts';

export interface ConcatFlowOptions extends CommonFlowOptions, ConcatOptions {}

/**
 * radius_server_concat: the password must carry the factor (`password,push`, `password,123456`).
 * No fallback to the whole password, and a suffix that is no factor is refused before any bind.
 */
export function createConcatFlow(opts: ConcatFlowOptions, deps: FlowDeps): LoginFlow {
  return {
    async handle(req) {
      const login = new Login(req, deps, 'concat', opts);
      const bad = login.checkRequest();
      if (bad) return bad;
      const split = splitConcat(req.password!, opts);
      if (!split || split.password === '' || !isFactorToken(split.factor)) {
        return login.reject('request', 'relay', FLOW_REPLY.badPassword);
      }

      const primary = await login.primary(split.password);
      if (primary.kind !== 'accept') return login.primaryFailed(primary);
      if (login.isExempt()) return login.exemptAccept(primary.attributes);

      const pre = await login.preauth(true, primary.attributes);
      if ('done' in pre) return pre.done;
      if ('enroll' in pre) return login.enrollReject(pre.enroll);
      return login.auth(parseFactorToken(split.factor, pre.auth.devices)!, true, primary.attributes);
    },
  };
}
