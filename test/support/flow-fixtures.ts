import type { AuthRequest, AuthResponse, PreauthRequest, PreauthResponse } from '@duo-edge/contract/wire';
import pino from 'pino';
import type { EdgeApi } from '../../local-relay/src/edge/client.ts';
import type { EdgeResult } from '../../local-relay/src/edge/result.ts';
import type { FlowDeps } from '../../local-relay/src/flow/deps.ts';
import { ChallengeStore, createFlow, type FlowDecision, type FlowOptions } from '../../local-relay/src/flow/index.ts';

/**
 * The login-flow fakes the flow tests share: the three section modes with the relay's usual
 * settings, an edge that records what it was asked, and a flow wired to them with its decisions kept.
 */

type ModeOptions<M extends FlowOptions['mode']> = Extract<FlowOptions, { mode: M }>;

/** auto, challenge and concat as a section configures them by default, with `exemptUsernames`. */
export function flowModes(exemptUsernames: string[] = []): {
  auto: ModeOptions<'auto'>;
  challenge: ModeOptions<'challenge'>;
  concat: ModeOptions<'concat'>;
} {
  const common = { exemptUsernames, clientIpAttr: 'default' as const };
  return {
    auto: { mode: 'auto', ...common, factors: ['auto'], allowConcat: true, delimiter: ',', delimitedPasswordLength: 0 },
    challenge: { mode: 'challenge', ...common, promptFormat: 'console', enrollChallenge: true },
    concat: { mode: 'concat', ...common, delimiter: ',', delimitedPasswordLength: 0 },
  };
}

const ALLOW: AuthResponse = { result: 'allow', message: 'Success. Logging you in...', source: 'duo', status: 'allow' };

/** An edge that answers through `preauth` and `auth` (default: allow) and records every request. */
export function recordingEdge(
  preauth: (r: PreauthRequest) => EdgeResult<PreauthResponse>,
  auth: (r: AuthRequest) => EdgeResult<AuthResponse> = () => ({ kind: 'ok', value: ALLOW }),
) {
  const calls: { preauth: PreauthRequest[]; auth: AuthRequest[] } = { preauth: [], auth: [] };
  const edge: EdgeApi = {
    async preauth(r) {
      calls.preauth.push(r);
      return preauth(r);
    },
    async auth(r) {
      calls.auth.push(r);
      return auth(r);
    },
  };
  return { edge, calls };
}

/** `createFlow` with a silent logger (unless given), a fresh challenge store, a `safe` site and every decision kept. */
export function wireFlow(
  opts: FlowOptions,
  deps: Pick<FlowDeps, 'primary' | 'edge'> & Partial<Pick<FlowDeps, 'policy' | 'challenges' | 'logger' | 'admission'>>,
) {
  const decisions: FlowDecision[] = [];
  const challenges = deps.challenges ?? new ChallengeStore();
  const flow = createFlow(opts, {
    policy: { failmode: () => 'safe' },
    logger: pino({ level: 'silent' }),
    ...deps,
    challenges,
    onDecision: (d) => decisions.push(d),
  });
  return { flow, decisions, challenges };
}
