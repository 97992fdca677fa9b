import { DurableObject } from 'cloudflare:workers';
import type { AuthDecision } from '../decision/auth.ts';
import { GateCore } from './gate-core.ts';
import { coalesceKey } from './keys.ts';
import { type GateLimits, LIMIT_MESSAGE } from './limits.ts';
import { type AuthJob, runAuth } from './runner.ts';

export interface GateJob extends AuthJob {
  limits: GateLimits;
}

export interface GateOutcome extends AuthDecision {
  /** This request joined another one's Duo call instead of making its own. */
  joined: boolean;
}

/** A Duo deny of a passcode spends a guess; failmode denies (Duo unreachable) do not. */
const passcodeFailed = (d: AuthDecision): boolean => d.response.result === 'deny' && d.response.source === 'duo';

/** One object per (site, user): one push per login across relays, and the push/passcode limits. */
export class UserGate extends DurableObject<Env> {
  readonly #core: GateCore<AuthDecision>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#core = new GateCore(ctx.storage.sql);
  }

  async auth(job: GateJob): Promise<GateOutcome> {
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
        return { ...verdict.value, joined: verdict.joined };
      case 'limited':
        return { response: { result: 'deny', message: LIMIT_MESSAGE, source: 'policy' }, joined: false };
    }
  }
}
