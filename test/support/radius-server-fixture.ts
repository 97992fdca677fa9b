import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { createRadiusServer } from '../../local-relay/src/server/index.ts';
import type { RadiusClientEntry, RadiusServer } from '../../local-relay/src/server/types.ts';
import { openUdpPeer, type UdpPeer } from './radclient.ts';

/** The relay's RADIUS server on a loopback port with one client, and that client's NAS socket. */
export interface OneClientServer {
  server: RadiusServer;
  /** The server's port, once started. */
  readonly port: number;
  /** The NAS (127.0.0.1), once started. */
  readonly nas: UdpPeer;
}

/**
 * Registers the file's beforeAll/afterAll: the server starts with the client `nas` at 127.0.0.1
 * (`entry`: its secret, flow and flags) and stops after the file's tests.
 */
export function oneClientServer(entry: Omit<RadiusClientEntry, 'name' | 'cidr'>): OneClientServer {
  const server = createRadiusServer({
    listeners: [{ host: '127.0.0.1', port: 0, clients: [{ name: 'nas', cidr: '127.0.0.1', ...entry }] }],
    logger: pino({ level: 'silent' }),
  });
  let port = 0;
  let nas: UdpPeer | undefined;
  beforeAll(async () => {
    port = (await server.start())[0]!.port;
    nas = await openUdpPeer();
  });
  afterAll(async () => {
    await nas?.close();
    await server.stop(1_000);
  });
  return {
    server,
    get port() {
      return port;
    },
    get nas() {
      if (!nas) throw new Error('the server is not started yet');
      return nas;
    },
  };
}
