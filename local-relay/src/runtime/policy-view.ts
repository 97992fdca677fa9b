import type { SitePolicySource } from '../edge/site-policy.ts';
import type { FlowDeps } from '../flow/index.ts';

/**
 * The site policy as the flows see it. Precedence, documented for operators:
 * - failmode: the policy's (edge, else last-known-good on disk), the config's only before any fetch;
 * - exempt users: the union of the server section's `exempt_usernames` and the policy's;
 * - factors (auto mode): the section's `factors` when set in relay.toml, else the policy's, else `auto`.
 */
export function policyView(store: SitePolicySource): FlowDeps['policy'] {
  return {
    failmode: () => store.failmode(),
    exemptUsernames: () => store.current().policy?.exempt_usernames ?? [],
    factors: () => store.current().policy?.factors,
  };
}
