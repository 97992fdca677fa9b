import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { REPLY } from '@duo-edge/contract/messages';
import type { AuthRequest, PreauthResponse } from '@duo-edge/contract/wire';
import { describe } from '../edge/client.ts';
import type { PrimaryContinuation, PrimaryOutcome, RawAttribute } from '../primary/types.ts';
import type { ChallengeEntry } from './challenge-store.ts';
import { type ClientIpAttr, clientIpOf } from './client-ip.ts';
import type { DecisionStage, FlowDecisionSource, FlowMode } from './decision.ts';
import type { FlowDeps } from './deps.ts';
import { localFailmode } from './edge-failure.ts';
import type { FactorChoice } from './factor-token.ts';
import { carryable } from './hop-bound.ts';
import { FLOW_REPLY, primaryErrorMessage } from './messages.ts';
import type { LoginAnswer, LoginOutcome, LoginRequest } from './types.ts';

/** Options every server section has (authproxy's common radius_server_* keys). */
export interface CommonFlowOptions {
  exemptUsernames: ReadonlyArray<string>;
  clientIpAttr: ClientIpAttr;
}

export type AuthPreauth = Extract<PreauthResponse, { result: 'auth' }>;
/** A primary check's outcome, or `busy` when admission refused to start it. */
export type PrimaryCheck = PrimaryOutcome | { kind: 'busy' };
export type PrimaryAccept = Extract<PrimaryOutcome, { kind: 'accept' }>;
/**
 * Upstream challenges relayed per login (RSA new-PIN mode takes four); one more fails closed, so a
 * looping upstream cannot keep a login open for ever.
 */
export const MAX_PRIMARY_CHALLENGE_ROUNDS = 6;
type EnrollPreauth = Extract<PreauthResponse, { result: 'enroll' }>;

/**
 * One login in progress: the request, the steps every mode shares (primary, preauth, auth), and the
 * single exit (`finish`) that reports each decision to `onDecision`.
 */
export class Login {
  readonly req: LoginRequest;
  readonly deps: FlowDeps;
  readonly mode: FlowMode;
  readonly clientIp: string | undefined;
  readonly #started = performance.now();
  readonly #exempt: ReadonlyArray<string>;
  factor: string | undefined;

  constructor(req: LoginRequest, deps: FlowDeps, mode: FlowMode, common: CommonFlowOptions) {
    this.req = req;
    this.deps = deps;
    this.mode = mode;
    this.clientIp = clientIpOf(req, common.clientIpAttr);
    this.#exempt = common.exemptUsernames;
  }

  finish(
    outcome: LoginAnswer,
    d: { stage: DecisionStage; source: FlowDecisionSource; edgeFailure?: string; reason?: string },
  ): LoginAnswer {
    const result = outcome.code === 'accept' ? 'allow' : outcome.code === 'reject' ? 'deny' : 'challenge';
    const decision = {
      id: randomUUID(),
      time: (this.deps.now ?? Date.now)(),
      mode: this.mode,
      username: this.req.username,
      nas_ip: this.req.nasIp,
      ...(this.clientIp ? { client_ip: this.clientIp } : {}),
      stage: d.stage,
      ...(this.factor ? { factor: this.factor } : {}),
      result,
      reason: d.reason ?? outcome.replyMessage ?? '',
      source: d.source,
      ...(d.edgeFailure ? { edge_failure: d.edgeFailure } : {}),
      latency_ms: Math.round(performance.now() - this.#started),
    } as const;
    // The runtime logs each decision once, as an auth_event line (ops/auth-event.ts).
    this.deps.logger.debug({ decision }, 'login decision');
    try {
      this.deps.onDecision?.(decision, this.req);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'onDecision hook threw');
    }
    return outcome;
  }

  reject(stage: DecisionStage, source: FlowDecisionSource, replyMessage: string): LoginAnswer {
    return this.finish({ code: 'reject', replyMessage }, { stage, source });
  }

  /**
   * Username and password present and decodable; else the reject to send. `allowMsChapV2`: the
   * mode can start a login from MS-CHAPv2 credentials instead (auto, challenge), which only an
   * upstream RADIUS primary can check, and only on a first request (a challenge answer is typed).
   */
  checkRequest(opts: { allowMsChapV2?: boolean } = {}): LoginAnswer | undefined {
    if (this.req.username === '') return this.reject('request', 'relay', FLOW_REPLY.noUsername);
    if (opts.allowMsChapV2 && this.isMsChapV2()) return undefined;
    if (this.req.password === undefined || this.req.password === '') {
      return this.reject('request', 'relay', FLOW_REPLY.badPassword);
    }
    return undefined;
  }

  /** Credentials are MS-CHAPv2 for the upstream RADIUS primary: no password to split or type. */
  isMsChapV2(): boolean {
    return (
      this.req.msChapV2 === true &&
      this.req.password === undefined &&
      this.req.state === undefined &&
      this.deps.primary.kind === 'radius'
    );
  }

  /** The section's exempt_usernames, plus the site policy's (union: either list exempts). */
  isExempt(): boolean {
    const u = this.req.username;
    return this.#exempt.includes(u) || (this.deps.policy.exemptUsernames?.().includes(u) ?? false);
  }

  exemptAccept(attributes?: ReadonlyArray<RawAttribute>): LoginAnswer {
    return this.finish(accept(REPLY.exempt, attributes), { stage: 'primary', source: 'exempt' });
  }

  /**
   * A throwing primary is a primary error, never an accept. No password: MS-CHAPv2 (in `raw`).
   * `busy`: the client or the relay is at its cap on concurrent checks; nothing was checked.
   */
  async primary(password: string | undefined, continuation?: PrimaryContinuation): Promise<PrimaryCheck> {
    let release: (() => void) | undefined;
    if (this.deps.admission) {
      release = this.deps.admission.tryEnter(this.req.client ?? this.req.nasIp);
      if (!release) return { kind: 'busy' };
    }
    try {
      return await this.deps.primary.authenticate({
        username: this.req.username,
        ...(password === undefined ? {} : { password }),
        clientIp: this.clientIp ?? this.req.nasIp,
        raw: this.req.raw,
        ...(continuation ? { continuation } : {}),
      });
    } catch (error) {
      this.deps.logger.error({ err: error }, 'primary authenticator threw');
      return { kind: 'error', detail: 'internal error' };
    } finally {
      release?.();
    }
  }

  /**
   * A primary check in a mode that relays the primary's own challenges (auto, challenge): passed,
   * or the login's answer for now. The primary has passed only on its accept: a challenge is
   * neither a pass nor anything a failmode may open.
   */
  settlePrimary(
    outcome: PrimaryCheck,
    round: number,
    factor?: string,
  ): { passed: PrimaryAccept } | { done: LoginOutcome } {
    if (outcome.kind === 'accept') return { passed: outcome };
    if (outcome.kind !== 'challenge') return { done: this.primaryFailed(outcome) };
    if (round > MAX_PRIMARY_CHALLENGE_ROUNDS) {
      this.deps.logger.warn(
        { username: this.req.username, nasIp: this.req.nasIp, rounds: round },
        'upstream RADIUS primary challenged once more than the relay relays: rejected',
      );
      return { done: this.reject('primary', 'primary', primaryErrorMessage('too many challenge rounds')) };
    }
    const state = this.deps.challenges.issue({
      kind: 'primary',
      continuation: outcome.continuation,
      round,
      ...(factor === undefined ? {} : { factor }),
      ...this.entryBase(false),
    });
    return {
      done: this.finish(
        {
          code: 'challenge',
          replyMessage: outcome.replyMessage,
          state,
          ...(outcome.attributes?.length ? { attributes: outcome.attributes } : {}),
        },
        // The upstream's text stays out of the logs: it may be a system-generated PIN.
        { stage: 'primary', source: 'primary', reason: 'Access-Challenge from the primary' },
      ),
    };
  }

  /** The answer to the primary's challenge, sent to the primary; settled like a first check. */
  async resumePrimary(
    entry: Extract<ChallengeEntry, { kind: 'primary' }>,
  ): Promise<{ passed: PrimaryAccept; factor?: string } | { done: LoginOutcome }> {
    const outcome = await this.primary(this.req.password, entry.continuation);
    if (outcome.kind === 'busy' && this.req.state) this.deps.challenges.restore(this.req.state, entry);
    const settled = this.settlePrimary(outcome, entry.round + 1, entry.factor);
    return 'passed' in settled && entry.factor !== undefined ? { ...settled, factor: entry.factor } : settled;
  }

  primaryFailed(outcome: Exclude<PrimaryCheck, { kind: 'accept' }>): LoginOutcome {
    // Not a decision: nothing was checked, and the NAS's retransmit gets a fresh try.
    if (outcome.kind === 'busy') return { code: 'drop', reason: 'primary_busy' };
    if (outcome.kind === 'challenge') {
      // The NAS of this mode never answers a challenge with what the upstream asked for.
      this.deps.logger.warn(
        { username: this.req.username, nasIp: this.req.nasIp, mode: this.mode },
        `upstream RADIUS primary sent an Access-Challenge, which mode ${this.mode} cannot relay: rejected`,
      );
      return this.reject(
        'primary',
        'primary',
        primaryErrorMessage(`Access-Challenge cannot be relayed in mode ${this.mode}`),
      );
    }
    if (outcome.kind === 'reject') {
      return this.finish(
        {
          code: 'reject',
          replyMessage: FLOW_REPLY.primaryRejected,
          ...(outcome.attributes?.length ? { attributes: outcome.attributes } : {}),
        },
        {
          stage: 'primary',
          source: 'primary',
          reason: `${FLOW_REPLY.primaryRejected}: ${outcome.reason}`,
        },
      );
    }
    return this.reject('primary', 'primary', primaryErrorMessage(outcome.detail));
  }

  /**
   * POST /v1/preauth. Returns the `auth` answer for factor selection, or `enroll` for the caller
   * to present; every other answer (and every edge failure) ends the login here.
   */
  async preauth(
    failOpenAllowed: boolean,
    attributes?: ReadonlyArray<RawAttribute>,
  ): Promise<{ done: LoginAnswer } | { auth: AuthPreauth } | { enroll: EnrollPreauth }> {
    this.#primaryOver();
    const r = await this.deps.edge.preauth({
      username: this.req.username,
      ...(this.clientIp ? { client_ip: this.clientIp } : {}),
      nas: this.#nas(),
      primary: this.#primaryOnWire(),
    });
    if (r.kind !== 'ok') {
      const d = localFailmode(r, 'preauth', this.deps.policy.failmode(), failOpenAllowed);
      const outcome = d.result === 'allow' ? accept(d.message, attributes) : reject(d.message);
      return { done: this.finish(outcome, { stage: 'preauth', source: 'failmode-relay', edgeFailure: describe(r) }) };
    }
    const pre = r.value;
    switch (pre.result) {
      case 'auth':
        return { auth: pre };
      case 'enroll':
        return { enroll: pre };
      case 'allow':
        return { done: this.finish(accept(pre.message, attributes), { stage: 'preauth', source: pre.source }) };
      case 'deny':
        return { done: this.finish(reject(pre.message), { stage: 'preauth', source: pre.source }) };
    }
  }

  enrollReject(pre: EnrollPreauth): LoginAnswer {
    return this.finish(reject(pre.message), { stage: 'preauth', source: pre.source });
  }

  /** POST /v1/auth with the chosen factor; the raw answer, for modes that look at Duo's status. */
  callAuth(choice: FactorChoice) {
    this.#primaryOver();
    this.factor = choice.factor;
    const req: AuthRequest = {
      username: this.req.username,
      factor: choice.factor,
      device: choice.factor === 'passcode' ? 'auto' : choice.device,
      ...(choice.factor === 'passcode' ? { passcode: choice.passcode } : {}),
      ...(this.clientIp ? { client_ip: this.clientIp } : {}),
      nas: this.#nas(),
      primary: this.#primaryOnWire(),
      login_id: this.req.loginId,
    };
    return this.deps.edge.auth(req);
  }

  /** Not an async function: a login waiting on its push keeps a promise reaction here, not a frame. */
  auth(choice: FactorChoice, failOpenAllowed: boolean, attributes?: ReadonlyArray<RawAttribute>): Promise<LoginAnswer> {
    return this.callAuth(choice).then((r) => this.authOutcome(r, failOpenAllowed, attributes));
  }

  authOutcome(
    r: Awaited<ReturnType<Login['callAuth']>>,
    failOpenAllowed: boolean,
    attributes?: ReadonlyArray<RawAttribute>,
  ): LoginAnswer {
    if (r.kind !== 'ok') {
      const d = localFailmode(r, 'auth', this.deps.policy.failmode(), failOpenAllowed);
      const outcome = d.result === 'allow' ? accept(d.message, attributes) : reject(d.message);
      return this.finish(outcome, { stage: 'auth', source: 'failmode-relay', edgeFailure: describe(r) });
    }
    const a = r.value;
    const outcome = a.result === 'allow' ? accept(a.message, attributes) : reject(a.message);
    return this.finish(outcome, { stage: 'auth', source: a.source });
  }

  challenge(replyMessage: string, entry: ChallengeEntry, stage: DecisionStage): LoginAnswer {
    const state = this.deps.challenges.issue(entry);
    return this.finish({ code: 'challenge', replyMessage, state }, { stage, source: 'relay' });
  }

  /** The pending challenge this request answers, consumed; undefined → `Unknown Challenge`. */
  takeChallenge(): ChallengeEntry | undefined {
    if (!this.req.state) return undefined;
    return this.deps.challenges.take(this.req.state, {
      username: this.req.username,
      nasIp: this.req.nasIp,
      ...(this.req.client === undefined ? {} : { client: this.req.client }),
    });
  }

  unknownChallenge(): LoginAnswer {
    return this.reject('challenge', 'relay', REPLY.unknownChallenge);
  }

  /** What a pending challenge keeps; hop-bound attributes cannot wait for the next request. */
  entryBase(failOpenAllowed: boolean, attributes?: ReadonlyArray<RawAttribute>) {
    const kept = carryable(attributes);
    return {
      username: this.req.username,
      nasIp: this.req.nasIp,
      ...(this.req.client === undefined ? {} : { client: this.req.client }),
      failOpenAllowed,
      ...(kept ? { attributes: kept } : {}),
    };
  }

  /** Every mode asks the edge only after its primary check: the decoded request is not needed again. */
  #primaryOver(): void {
    this.req.raw = undefined;
  }

  /** duo_only tells the edge there was no primary, so the edge never fails it open either. */
  #primaryOnWire(): 'passed' | 'none' {
    return this.mode === 'duo_only' ? 'none' : 'passed';
  }

  #nas(): AuthRequest['nas'] {
    return {
      ...(isIP(this.req.nasIp) ? { ip: this.req.nasIp } : {}),
      ...(this.req.nasIdentifier ? { identifier: this.req.nasIdentifier.slice(0, 253) } : {}),
      ...(this.req.callingStationId ? { calling_station_id: this.req.callingStationId.slice(0, 253) } : {}),
    };
  }
}

export function accept(replyMessage: string, attributes?: ReadonlyArray<RawAttribute>): LoginAnswer {
  return { code: 'accept', replyMessage, ...(attributes?.length ? { attributes } : {}) };
}

export function reject(replyMessage: string): LoginAnswer {
  return { code: 'reject', replyMessage };
}
