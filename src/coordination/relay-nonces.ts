import { DurableObject } from 'cloudflare:workers';
import { REPLAY_WINDOW_MS } from '@duo-edge/contract/signing';
import { NonceLog } from './nonce-log.ts';

/**
 * The seen-set for a relay's signed requests that do not pass through a user's gate (preauth, site,
 * heartbeat, audit). `/v1/auth` keeps its nonces in the user's gate, which that call visits anyway.
 */
export class RelayNonces extends DurableObject<Env> {
  readonly #log: NonceLog;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#log = new NonceLog(ctx.storage.sql);
  }

  claim(relayKey: string, nonce: string): boolean {
    return this.#log.claim(relayKey, nonce, Date.now(), REPLAY_WINDOW_MS);
  }
}
