import { sha256Hex } from '../wire/encoding.ts';
import type { AuthRequest } from '../wire/schemas.ts';

/** Durable Object name for one (site, user). Lower-cased: Duo matches usernames case-insensitively. */
export const userGateName = (site: string, username: string): string => JSON.stringify([site, username.toLowerCase()]);

/**
 * Where a login comes from: the NAS (IP, else NAS-Identifier) and the user's device (Calling-Station-Id,
 * else client IP). A NAS failing over to another relay, or an HA relay pair, sends the same endpoint.
 */
export function endpointOf(req: Pick<AuthRequest, 'nas' | 'client_ip'>): string {
  const nas = req.nas.ip ?? req.nas.identifier ?? '';
  const station = req.nas.calling_station_id ?? req.client_ip ?? '';
  return JSON.stringify([nas, station]);
}

/**
 * Requests join an in-flight call only if they ask for the same thing: same endpoint, factor and
 * device, and for passcodes the same passcode (hashed; a wrong passcode must never share the result
 * of a right one).
 */
export async function coalesceKey(req: AuthRequest): Promise<string> {
  const passcode = req.passcode === undefined ? '' : await sha256Hex(req.passcode);
  return JSON.stringify([endpointOf(req), req.factor, req.device, passcode]);
}
