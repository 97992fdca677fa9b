import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { ConsoleEnv } from '../env.ts';

/**
 * The console session after a token sign-in: a cookie holding its expiry, HMAC-signed with a key
 * derived from ADMIN_TOKEN. Rotating the token therefore ends every session; the expiry is checked
 * here, not left to the browser.
 */

const COOKIE = 'duo_edge_console';
export const SESSION_MS = 12 * 60 * 60 * 1000;
const PATH = '/admin';

type Ctx = Context<ConsoleEnv>;

const secret = (c: Ctx) => `duo-edge console session\n${c.env.ADMIN_TOKEN}`;
const secure = (c: Ctx) => new URL(c.req.url).protocol === 'https:';

export async function startSession(c: Ctx, now: number): Promise<void> {
  await setSignedCookie(c, COOKIE, String(now + SESSION_MS), secret(c), {
    path: PATH,
    httpOnly: true,
    sameSite: 'Strict',
    secure: secure(c),
    maxAge: SESSION_MS / 1000,
  });
}

export async function hasSession(c: Ctx, now: number): Promise<boolean> {
  const value = await getSignedCookie(c, secret(c), COOKIE);
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return false;
  return Number(value) > now;
}

export function endSession(c: Ctx): void {
  deleteCookie(c, COOKIE, { path: PATH, secure: secure(c), httpOnly: true, sameSite: 'Strict' });
}
