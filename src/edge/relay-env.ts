import type { EdgeContextVariables } from '../middleware/edge-context.ts';
import type { RelayAuthVariables } from '../middleware/relay-auth.ts';

/** Hono env of routes behind relay auth. */
export type RelayEnv = { Bindings: Env; Variables: EdgeContextVariables & RelayAuthVariables };
