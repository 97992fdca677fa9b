import type { SitePolicy } from '@duo-edge/contract/wire';

/** Per-site push-fatigue and guessing limits; same shape as the site policy's `limits`. */
export type GateLimits = SitePolicy['limits'];

/** Reply-Message for a login refused by the limits (recorded with source `policy`). */
export const LIMIT_MESSAGE = 'Too many login attempts, try again later';

/** Anything that reaches the user's phone counts against the push limit; passcodes count failures. */
export type AttemptKind = 'push' | 'passcode_failure';
