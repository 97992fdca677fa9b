import type { Context } from 'hono';

/**
 * Headers on every console response: no script at all (the console works without it), styles and
 * images from this origin only, forms posting only here, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function setConsoleHeaders(c: Context): void {
  c.header('content-security-policy', CONSOLE_CSP);
  c.header('x-frame-options', 'DENY');
  c.header('x-content-type-options', 'nosniff');
  // Not no-referrer: under it browsers send `Origin: null` on form posts, and the CSRF check needs it.
  c.header('referrer-policy', 'same-origin');
}

/**
 * CSRF: a state-changing request must carry an Origin equal to the console's own. Browsers send
 * Origin on every POST, so one without it is refused too.
 */
export function crossOrigin(c: Context): boolean {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return false;
  return c.req.header('origin') !== new URL(c.req.url).origin;
}
