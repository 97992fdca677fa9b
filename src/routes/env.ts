import type { EdgeContextVariables } from '../middleware/edge-context.ts';
import type { RelayAuthVariables } from '../middleware/relay-auth.ts';

/** Hono env of the public (unauthenticated) routes. */
export type PublicEnv = { Bindings: Env; Variables: EdgeContextVariables };
/** Hono env of routes behind relay auth. */
export type RelayEnv = { Bindings: Env; Variables: EdgeContextVariables & RelayAuthVariables };
