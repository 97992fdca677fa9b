import { type AutoFlowOptions, createAutoFlow } from './auto.ts';
import { type ChallengeFlowOptions, createChallengeFlow } from './challenge.ts';
import { type ConcatFlowOptions, createConcatFlow } from './concat.ts';
import type { FlowDecision } from './decision.ts';
import type { FlowDeps } from './deps.ts';
import { createDuoOnlyFlow, type DuoOnlyFlowOptions } from './duo-only.ts';
import type { LoginFlow } from './types.ts';

export type FlowOptions =
  | ({ mode: 'auto' } & AutoFlowOptions)
  | ({ mode: 'challenge' } & ChallengeFlowOptions)
  | ({ mode: 'concat' } & ConcatFlowOptions)
  | ({ mode: 'duo_only' } & DuoOnlyFlowOptions);

/**
 * The login flow of one server section. Each request gets its own decision hook so that what the
 * hook returns (a journal write) settles before the outcome is handed back for the reply.
 */
export function createFlow(opts: FlowOptions, deps: FlowDeps): LoginFlow {
  const hook = deps.onDecision;
  if (!hook) return modeFlow(opts, deps);
  return {
    async handle(req) {
      const settling: Promise<unknown>[] = [];
      const onDecision = (d: FlowDecision) => {
        const r = hook(d);
        if (r instanceof Promise) {
          settling.push(r.catch((error: unknown) => deps.logger.error({ err: error }, 'decision hook failed')));
        }
      };
      const outcome = await modeFlow(opts, { ...deps, onDecision }).handle(req);
      await Promise.all(settling);
      return outcome;
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
