import type { Logger } from 'pino';
import type { Failmode } from '../../../src/wire/schemas.ts';
import type { EdgeApi } from '../edge/client.ts';
import type { PrimaryAuthenticator } from '../primary/types.ts';
import type { ChallengeStore } from './challenge-store.ts';
import type { DecisionHook } from './decision.ts';

/** What every flow needs from the rest of the relay; tests pass fakes. */
export interface FlowDeps {
  primary: PrimaryAuthenticator;
  edge: EdgeApi;
  /** The failmode in force now (site policy from the edge, last-known-good, or config). */
  policy: { failmode(): Failmode };
  challenges: ChallengeStore;
  logger: Logger;
  onDecision?: DecisionHook;
  now?: () => number;
}
