import { type AutoFlowOptions, createAutoFlow } from './auto.ts';
import { type ChallengeFlowOptions, createChallengeFlow } from './challenge.ts';
import { type ConcatFlowOptions, createConcatFlow } from './concat.ts';
import type { FlowDecision } from './decision.ts';
import type { FlowDeps } from './deps.ts';
import { createDuoOnlyFlow, type DuoOnlyFlowOptions } from './duo-only.ts';
import type { LoginFlow, LoginRequest } from './types.ts';

export type FlowOptions =
  | ({ mode: 'auto' } & AutoFlowOptions)
  | ({ mode: 'challenge' } & ChallengeFlowOptions)
  | ({ mode: 'concat' } & ConcatFlowOptions)
  | ({ mode: 'duo_only' } & DuoOnlyFlowOptions);

/**
 * The login flow of one server section. What the decision hook returns for a request (a journal
 * write) settles before that request's outcome is handed back for the reply. The flow is built
 * once; a request waiting on the edge costs no per-request copy of it, only its own entry here
 * once a decision is pending.
 */
export function createFlow(opts: FlowOptions, deps: FlowDeps): LoginFlow {
  const hook = deps.onDecision;
  if (!hook) return modeFlow(opts, deps);
  const settling = new WeakMap<LoginRequest, Promise<unknown>[]>();
  const flow = modeFlow(opts, {
    ...deps,
    onDecision: (d: FlowDecision, req: LoginRequest) => {
      const r = hook(d, req);
      if (!(r instanceof Promise)) return;
      const pending = settling.get(req) ?? [];
      pending.push(r.catch((error: unknown) => deps.logger.error({ err: error }, 'decision hook failed')));
      settling.set(req, pending);
    },
  });
  /** The hook's promises for `req`, forgotten; undefined when it returned none (the common case). */
  const settle = (req: LoginRequest): Promise<unknown> | undefined => {
    const pending = settling.get(req);
    settling.delete(req);
    return pending && Promise.all(pending);
  };
  return {
    // Not an async function: a login waiting on a push keeps one promise reaction here, not a
    // suspended frame, and its decision is not made (nothing is settling) until the push is answered.
    handle(req) {
      return flow.handle(req).then(
        (outcome) => settle(req)?.then(() => outcome) ?? outcome,
        (error: unknown) => {
          const settled = settle(req);
          if (!settled) throw error;
          return settled.then(() => Promise.reject(error));
        },
      );
    },
  };
}

function modeFlow(opts: FlowOptions, deps: FlowDeps): LoginFlow {
  switch (opts.mode) {
    case 'auto':
      return createAutoFlow(opts, deps);
    case 'challenge':
      return createChallengeFlow(opts, deps);
    case 'concat':
      return createConcatFlow(opts, deps);
    case 'duo_only':
      return createDuoOnlyFlow(opts, deps);
  }
}

export { ChallengeStore } from './challenge-store.ts';
export type { DecisionHook, FlowDecision } from './decision.ts';
export type { FlowDeps } from './deps.ts';
