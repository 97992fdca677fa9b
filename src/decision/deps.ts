import type { DuoClient } from '../duo/api.ts';
import type { ResolvedSite } from '../sites/load.ts';

/** What a decision needs; routes build it, tests and the coordination object can substitute parts. */
export interface DecisionDeps {
  duo: DuoClient;
  site: ResolvedSite;
  /** Epoch ms; deadlines are computed from it. */
  now: () => number;
  /** The site's primary-only override holding now, if any (preauth only). */
  override?: () => Promise<{ actor: string; reason: string } | null>;
}
