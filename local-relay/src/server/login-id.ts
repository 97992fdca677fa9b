import { createHash } from 'node:crypto';

/**
 * What only one login carries: the NAS it came from (source address and NAS-Identifier), the
 * Request Authenticator the NAS drew for it (16 random bytes, RFC 2865 §3) and the User-Name bytes.
 * A retransmit reuses all three, as does a NAS that sends the same packet to a second relay; any
 * other login, even the same user's from the same NAS, has a fresh authenticator. The edge joins
 * concurrent Duo calls only within one login_id, so two logins never share one approval.
 */
export function loginIdOf(p: {
  nasIp: string;
  nasIdentifier: string | undefined;
  authenticator: Uint8Array;
  userName: Uint8Array;
}): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        p.nasIp,
        p.nasIdentifier ?? '',
        Buffer.from(p.authenticator).toString('hex'),
        Buffer.from(p.userName).toString('hex'),
      ]),
    )
    .digest('hex');
}
