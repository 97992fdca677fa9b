import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP hop in front of a server (TLS passes through it untouched) whose open connections can be
 * made to stop carrying the server's bytes to the client: a path that died one way, as when a NAT or
 * firewall drops its state. The client's bytes still reach the server; new connections work.
 */
export interface StallProxy {
  /** `target` with this hop's port. */
  url: string;
  /** Connections accepted so far. */
  connections(): number;
  /** From now on, nothing the server sends on the connections open now reaches the client. */
  stall(): void;
  close(): Promise<void>;
}

export async function startStallProxy(target: string): Promise<StallProxy> {
  const to = new URL(target);
  const open = new Map<Socket, { stalled: boolean }>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const state = { stalled: false };
    open.set(client, state);
    const upstream = connect(Number(to.port), to.hostname);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => state.stalled || client.write(chunk));
    for (const [s, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      s.on('error', () => {});
      s.once('close', () => other.destroy());
    }
    client.once('close', () => open.delete(client));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(target);
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.origin,
    connections: () => connections,
    stall() {
      for (const state of open.values()) state.stalled = true;
    },
    async close() {
      const closed = new Promise((r) => server.close(r));
      for (const s of open.keys()) s.destroy();
      await closed;
    },
  };
}
