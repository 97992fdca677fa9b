import { type AutoFlowOptions, createAutoFlow } from './auto.ts';
import { type ChallengeFlowOptions, createChallengeFlow } from './challenge.ts';
import { type ConcatFlowOptions, createConcatFlow } from './concat.ts';
import type { FlowDeps } from './deps.ts';
import { createDuoOnlyFlow, type DuoOnlyFlowOptions } from './duo-only.ts';
import type { LoginFlow } from './types.ts';

export type FlowOptions =
  | ({ mode: 'auto' } & AutoFlowOptions)
  | ({ mode: 'challenge' } & ChallengeFlowOptions)
  | ({ mode: 'concat' } & ConcatFlowOptions)
  | ({ mode: 'duo_only' } & DuoOnlyFlowOptions);

/** The login flow of one server section. */
export function createFlow(opts: FlowOptions, deps: FlowDeps): LoginFlow {
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
