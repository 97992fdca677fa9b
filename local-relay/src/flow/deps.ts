import type { FactorPreference, Failmode } from '@duo-edge/contract/wire';
import type { Logger } from 'pino';
import type { EdgeApi } from '../edge/client.ts';
import type { PrimaryAdmission } from '../primary/admission.ts';
import type { PrimaryAuthenticator } from '../primary/types.ts';
import type { ChallengeStore } from './challenge-store.ts';
import type { DecisionHook } from './decision.ts';

/** What every flow needs from the rest of the relay; tests pass fakes. */
export interface FlowDeps {
  primary: PrimaryAuthenticator;
  /** Caps on concurrent primary checks; absent: no cap. */
  admission?: PrimaryAdmission;
  edge: EdgeApi;
  /**
   * The site policy in force now (from the edge, last-known-good, or config): the failmode, plus
   * the site's exempt users (added to the section's) and factors (used when the section sets none).
   */
  policy: {
    failmode(): Failmode;
    exemptUsernames?(): ReadonlyArray<string>;
    factors?(): ReadonlyArray<FactorPreference> | undefined;
  };
  challenges: ChallengeStore;
  logger: Logger;
  onDecision?: DecisionHook;
  now?: () => number;
}
