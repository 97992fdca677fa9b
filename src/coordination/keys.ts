import { sha256Hex } from '@duo-edge/contract/encoding';
import type { AuthRequest } from '@duo-edge/contract/wire';

/** Durable Object name for one (site, user). Lower-cased: Duo matches usernames case-insensitively. */
export const userGateName = (site: string, username: string): string => JSON.stringify([site, username.toLowerCase()]);

/** Durable Object name for one relay key of one site: the seen-set of its requests other than /v1/auth. */
export const relayNoncesName = (site: string, relayKey: string): string => JSON.stringify([site, relayKey]);

/**
 * Requests join an in-flight call only if they are the same login asking for the same thing: same
 * login_id (a NAS retransmit, or the same Access-Request sent to another relay; a different login
 * from the same NAS has its own Request Authenticator and so its own id), same primary outcome,
 * factor and device, and for passcodes the same passcode (hashed; a wrong passcode must never
 * share the result of a right one).
 */
export async function coalesceKey(req: AuthRequest): Promise<string> {
  const passcode = req.passcode === undefined ? '' : await sha256Hex(req.passcode);
  return JSON.stringify([req.login_id, req.primary, req.factor, req.device, passcode]);
}
