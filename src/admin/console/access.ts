import { Jwt } from 'hono/utils/jwt';
import type { HonoJsonWebKey } from 'hono/utils/jwt/jws';
import { z } from 'zod';

/**
 * How admins sign in to the console: with the admin token (default), or, when the worker sits
 * behind Cloudflare Access, with the Access JWT of every request, validated against the team's
 * keys. Setting only one of the two Access vars is a misconfiguration and closes the console.
 */

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i;

export type SignInMode = { kind: 'token' } | { kind: 'access'; teamDomain: string; aud: string };

const accessVarsSchema = z
  .object({
    ACCESS_TEAM_DOMAIN: z.string().trim().default(''),
    ACCESS_AUD: z.string().trim().default(''),
  })
  .transform((v, ctx): SignInMode => {
    if (v.ACCESS_TEAM_DOMAIN === '' && v.ACCESS_AUD === '') return { kind: 'token' };
    if (!HOSTNAME.test(v.ACCESS_TEAM_DOMAIN)) {
      ctx.addIssue({ code: 'custom', path: ['ACCESS_TEAM_DOMAIN'], message: 'must be a hostname' });
      return z.NEVER;
    }
    if (!/^[0-9a-f]{16,128}$/i.test(v.ACCESS_AUD)) {
      ctx.addIssue({ code: 'custom', path: ['ACCESS_AUD'], message: 'must be the Access audience tag' });
      return z.NEVER;
    }
    return { kind: 'access', teamDomain: v.ACCESS_TEAM_DOMAIN.toLowerCase(), aud: v.ACCESS_AUD };
  });

/** The sign-in mode, or the misconfigured var's name. */
export function signInMode(env: {
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
}): { ok: true; mode: SignInMode } | { ok: false; field: string } {
  const r = accessVarsSchema.safeParse(env);
  return r.success ? { ok: true, mode: r.data } : { ok: false, field: r.error.issues[0]?.path.join('.') ?? 'ACCESS' };
}

/** The header Cloudflare Access adds to every request it let through. */
export const ACCESS_JWT_HEADER = 'cf-access-jwt-assertion';

/**
 * The admin's email from a valid Access JWT (RS256, signed by one of the team's keys, issued by
 * the team domain for this application's audience, within its validity); null otherwise. `keys`
 * replaces the team's published keys (https://<team>/cdn-cgi/access/certs).
 */
export async function accessActor(
  token: string,
  mode: Extract<SignInMode, { kind: 'access' }>,
  keys?: HonoJsonWebKey[],
): Promise<string | null> {
  try {
    const payload = await Jwt.verifyWithJwks(token, {
      ...(keys ? { keys } : { jwks_uri: `https://${mode.teamDomain}/cdn-cgi/access/certs` }),
      allowedAlgorithms: ['RS256'],
      verification: { iss: `https://${mode.teamDomain}`, aud: mode.aud },
    });
    const email = payload.email;
    return typeof email === 'string' && email.length > 0 && email.length <= 254 ? email : null;
  } catch {
    return null;
  }
}
