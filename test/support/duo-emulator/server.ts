import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createEmulator } from './app.ts';
import type { EmulatorOptions, EmulatorState } from './state.ts';

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:40123 (no trailing slash) */
  url: string;
  state: EmulatorState;
  close(): Promise<void>;
}

/** Serves the emulator on Node; port 0 (default) picks a free one. */
export async function startEmulator(
  options: EmulatorOptions & { port?: number; host?: string } = {},
): Promise<RunningEmulator> {
  const { port = 0, host = '127.0.0.1', ...emulatorOptions } = options;
  const { app, state } = createEmulator(emulatorOptions);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    state,
    async close() {
      state.close();
      // Hung ("hang" fault) and keep-alive connections would hold close() open.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
