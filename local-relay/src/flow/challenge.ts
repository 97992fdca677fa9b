import { REPLY } from '@duo-edge/contract/messages';
import type { ChallengeEntry } from './challenge-store.ts';
import type { FlowDeps } from './deps.ts';
import { parseFactorToken } from './factor-token.ts';
import { type CommonFlowOptions, Login, type PrimaryAccept } from './login.ts';
import { buildFactorMenu, isUnknownOption } from './menu.ts';
import { FLOW_REPLY } from './messages.ts';
import { formatPrompt, type PromptFormat } from './prompt.ts';
import type { LoginFlow, LoginOutcome } from './types.ts';

export interface ChallengeFlowOptions extends CommonFlowOptions {
  promptFormat: PromptFormat;
  enrollChallenge: boolean;
}

/**
 * radius_server_challenge: primary, preauth, then an Access-Challenge with a numbered menu of the
 * user's devices; the answer (an option number, a factor name, or a passcode) goes to /v1/auth. An
 * option number outside the menu ends the challenge like an unknown State. An upstream RADIUS
 * primary's own challenges come first, relayed round by round until it accepts or rejects.
 */
export function createChallengeFlow(opts: ChallengeFlowOptions, deps: FlowDeps): LoginFlow {
  return {
    async handle(req) {
      const login = new Login(req, deps, 'challenge', opts);
      const bad = login.checkRequest({ allowMsChapV2: true });
      if (bad) return bad;
      if (req.state) return answer(login, opts);

      const settled = login.settlePrimary(await login.primary(req.password), 1);
      if ('done' in settled) return settled.done;
      return afterPrimary(login, settled.passed, opts);
    },
  };
}

/** Everything after a passed primary: exemption, preauth, then the menu. */
async function afterPrimary(login: Login, primary: PrimaryAccept, opts: ChallengeFlowOptions): Promise<LoginOutcome> {
  if (login.isExempt()) return login.exemptAccept(primary.attributes);

  const pre = await login.preauth(true, primary.attributes);
  if ('done' in pre) return pre.done;
  if ('enroll' in pre) {
    // Many NAS show Reply-Message only on challenges: the enrollment text goes in one.
    if (!opts.enrollChallenge) return login.enrollReject(pre.enroll);
    return login.challenge(pre.enroll.message, { kind: 'enroll', ...login.entryBase(true) }, 'preauth');
  }
  const menu = buildFactorMenu(login.req.username, pre.auth.devices);
  const prompt = formatPrompt(opts.promptFormat, menu.text, menu.factors);
  return login.challenge(
    prompt,
    {
      kind: 'factor',
      prompt,
      factors: menu.factors,
      devices: pre.auth.devices,
      ...login.entryBase(true, primary.attributes),
    },
    'preauth',
  );
}

async function answer(login: Login, opts: ChallengeFlowOptions): Promise<LoginOutcome> {
  const entry = login.takeChallenge();
  if (!entry) return login.unknownChallenge();
  switch (entry.kind) {
    case 'enroll':
      return login.reject('challenge', 'relay', REPLY.enrollAgain);
    case 'passcode':
      return login.unknownChallenge();
    case 'factor':
      return answerFactor(login, entry);
    case 'primary': {
      const resumed = await login.resumePrimary(entry);
      return 'done' in resumed ? resumed.done : afterPrimary(login, resumed.passed, opts);
    }
  }
}

async function answerFactor(login: Login, entry: Extract<ChallengeEntry, { kind: 'factor' }>): Promise<LoginOutcome> {
  const typed = login.req.password!;
  if (isUnknownOption(typed, entry.factors)) return login.unknownChallenge();
  const token = Object.hasOwn(entry.factors, typed) && typed !== 'default' ? entry.factors[typed]! : typed;
  const choice = parseFactorToken(token, entry.devices);
  if (!choice) return login.reject('challenge', 'relay', FLOW_REPLY.badPassword);
  const r = await login.callAuth(choice);
  // `sms` sends passcodes (Duo answers deny/sent): ask again with the same prompt, new State.
  if (choice.factor === 'sms' && r.kind === 'ok' && r.value.result === 'deny' && r.value.status === 'sent') {
    const { prompt, factors, devices, failOpenAllowed, attributes } = entry;
    return login.challenge(
      prompt,
      { kind: 'factor', prompt, factors, devices, ...login.entryBase(failOpenAllowed, attributes) },
      'auth',
    );
  }
  return login.authOutcome(r, entry.failOpenAllowed, entry.attributes);
}
