import { REPLY } from '@duo-edge/contract/messages';
import type { FactorPreference } from '@duo-edge/contract/wire';
import { type ConcatOptions, splitConcat } from './concat-split.ts';
import type { FlowDeps } from './deps.ts';
import { selectFactor } from './factor-select.ts';
import { isConcatFactor, parseFactorToken } from './factor-token.ts';
import { type CommonFlowOptions, Login, type PrimaryAccept, type PrimaryCheck } from './login.ts';
import { FLOW_REPLY } from './messages.ts';
import type { LoginFlow, LoginOutcome } from './types.ts';

export interface AutoFlowOptions extends CommonFlowOptions, ConcatOptions {
  /** Unset in the config: the site policy's factors, else `auto`. */
  factors?: ReadonlyArray<FactorPreference>;
  allowConcat: boolean;
}

const DEFAULT_FACTORS: ReadonlyArray<FactorPreference> = ['auto'];

/**
 * radius_server_auto: primary, preauth, then the concat suffix or the first usable configured
 * factor; `passcode` asks with an Access-Challenge. An upstream RADIUS primary's own challenges
 * are relayed to the NAS first, round by round, until it accepts or rejects.
 */
export function createAutoFlow(opts: AutoFlowOptions, deps: FlowDeps): LoginFlow {
  return {
    async handle(req) {
      const login = new Login(req, deps, 'auto', opts);
      const bad = login.checkRequest({ allowMsChapV2: true });
      if (bad) return bad;
      if (req.state) return answerChallenge(login, opts);

      // MS-CHAPv2 carries no password to split: those users get the configured factor.
      const { outcome, factor } = login.isMsChapV2()
        ? { outcome: await login.primary(undefined), factor: undefined }
        : await primaryWithConcat(login, req.password!, opts);
      const settled = login.settlePrimary(outcome, 1, factor);
      if ('done' in settled) return settled.done;
      return afterPrimary(login, settled.passed, factor, opts);
    },
  };
}

/** Everything after a passed primary: exemption, preauth, then the factor. */
async function afterPrimary(
  login: Login,
  outcome: PrimaryAccept,
  factor: string | undefined,
  opts: AutoFlowOptions,
): Promise<LoginOutcome> {
  if (login.isExempt()) return login.exemptAccept(outcome.attributes);

  const pre = await login.preauth(true, outcome.attributes);
  if ('done' in pre) return pre.done;
  if ('enroll' in pre) return login.enrollReject(pre.enroll);

  if (factor !== undefined) {
    const choice = parseFactorToken(factor, pre.auth.devices);
    // isConcatFactor only lets through what parseFactorToken accepts.
    return login.auth(choice!, true, outcome.attributes);
  }
  const sel = selectFactor(opts.factors ?? login.deps.policy.factors?.() ?? DEFAULT_FACTORS, pre.auth);
  switch (sel.kind) {
    case 'auth':
      return login.auth(sel.choice, true, outcome.attributes);
    case 'passcode':
      // The Accept would answer a later request, and an MS-CHAPv2 client needs this request's
      // MS-CHAP2-Success and MPPE keys in it: no passcode challenge for MS-CHAPv2.
      if (login.isMsChapV2()) return login.reject('preauth', 'relay', REPLY.noFactors);
      login.factor = 'passcode';
      return login.challenge(
        REPLY.enterPasscode,
        { kind: 'passcode', ...login.entryBase(true, outcome.attributes) },
        'preauth',
      );
    case 'none':
      return login.reject('preauth', 'relay', REPLY.noFactors);
  }
}

/**
 * Duo splits on the last delimiter and, when the left part fails, retries the whole password.
 * Only a suffix that is a factor (push, phone, sms, pushN…, digits) earns the split: otherwise the
 * delimiter is part of the password and one bind with the whole password is all we make, so a
 * password like `a,b` never costs two failed binds against an AD lockout counter, which would lock
 * the account out twice as fast as the user's own typing errors do.
 */
async function primaryWithConcat(
  login: Login,
  password: string,
  opts: AutoFlowOptions,
): Promise<{ outcome: PrimaryCheck; factor?: string }> {
  const split = opts.allowConcat ? splitConcat(password, opts) : undefined;
  if (split && split.password !== '' && isConcatFactor(split.factor)) {
    const first = await login.primary(split.password);
    // A challenge to the left part is the upstream's next step, not a failure: the suffix waits.
    if (first.kind === 'accept' || first.kind === 'challenge')
      return { outcome: first, factor: split.factor.toLowerCase() };
    if (first.kind !== 'reject') return { outcome: first };
  }
  return { outcome: await login.primary(password) };
}

/** The answer to the relay's passcode challenge, or to the upstream primary's own. */
async function answerChallenge(login: Login, opts: AutoFlowOptions): Promise<LoginOutcome> {
  const entry = login.takeChallenge();
  if (entry?.kind === 'primary') {
    const resumed = await login.resumePrimary(entry);
    return 'done' in resumed ? resumed.done : afterPrimary(login, resumed.passed, resumed.factor, opts);
  }
  if (!entry || entry.kind !== 'passcode') return login.unknownChallenge();
  const choice = parseFactorToken(login.req.password!, []);
  if (!choice) return login.reject('challenge', 'relay', FLOW_REPLY.badPassword);
  return login.auth(choice, entry.failOpenAllowed, entry.attributes);
}
