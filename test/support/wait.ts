import { createSocket } from 'node:dgram';
import { createServer, isIPv6 } from 'node:net';

/**
 * Free loopback ports and bounded polling for tests that start real servers. A "free" port is one
 * the OS handed out a moment ago; another process could take it before the caller binds, which is
 * acceptable on a test box and far better than fixed ports.
 */

/** A UDP port that was free a moment ago on `host` (the OS picks it). */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port that was free a moment ago on `host` (the OS picks it). */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const address = s.address();
      s.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error(`no TCP port on ${host}`));
      });
    });
  });
}

const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 100;

/**
 * Resolves once `cond` holds; throws `timed out waiting for <what>` after `timeoutMs`. Polls fast at
 * first (most conditions flip within a few ms) and backs off so slow waits with an async `cond`
 * (an HTTP probe) do not load a 2-core box.
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pollMs = FIRST_POLL_MS;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }
}
