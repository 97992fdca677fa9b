import { DurableObject } from 'cloudflare:workers';
import { err, ok, type Result } from '@duo-edge/contract/result';
import { REPLAY_WINDOW_MS } from '@duo-edge/contract/signing';
import type { AuthDecision } from '../decision/auth.ts';
import { GateCore } from './gate-core.ts';
import { coalesceKey } from './keys.ts';
import { type GateLimits, LIMIT_MESSAGE } from './limits.ts';
import { NonceLog } from './nonce-log.ts';
import type { AuthJob, AuthRunner } from './runner.ts';

export interface GateJob extends AuthJob {
  limits: GateLimits;
  /** The signed request's identity: each is accepted once (the replay seen-set lives here). */
  relayKey: string;
  nonce: string;
}

export interface GateOutcome extends AuthDecision {
  /** This request joined another one's Duo call instead of making its own. */
  joined: boolean;
}

/** A Duo deny of a passcode spends a guess; failmode denies (Duo unreachable) do not. */
const passcodeFailed = (d: AuthDecision): boolean => d.response.result === 'deny' && d.response.source === 'duo';

/**
 * One object per (site, user): one push per login across relays, and the push/passcode limits.
 * The class is built around the edge's auth runner, because the runtime constructs it with only
 * its state and env.
 */
export function userGateClass(runAuth: AuthRunner) {
  return class UserGate extends DurableObject<Env> {
    readonly #core: GateCore<AuthDecision>;
    readonly #nonces: NonceLog;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      this.#core = new GateCore(ctx.storage.sql);
      this.#nonces = new NonceLog(ctx.storage.sql);
    }

    /**
     * The nonce is claimed before anything else, with no await in between: a replayed /v1/auth sends
     * no push and spends nothing from the user's limits. The body is signed, so a replay names this
     * same user and lands in this same object.
     */
    async auth(job: GateJob): Promise<Result<GateOutcome, 'replayed'>> {
      if (!this.#nonces.claim(job.relayKey, job.nonce, Date.now(), REPLAY_WINDOW_MS)) return err('replayed');
      const verdict = await this.#core.run(
        {
          key: await coalesceKey(job.request),
          kind: job.request.factor === 'passcode' ? 'passcode_failure' : 'push',
          limits: job.limits,
          now: Date.now(),
          failed: passcodeFailed,
        },
        () => runAuth(this.env, { site: job.site, request: job.request }),
      );
      switch (verdict.kind) {
        case 'ran':
          return ok({ ...verdict.value, joined: verdict.joined });
        case 'limited':
          return ok({ response: { result: 'deny', message: LIMIT_MESSAGE, source: 'policy' }, joined: false });
      }
    }
  };
}

export type UserGate = InstanceType<ReturnType<typeof userGateClass>>;
