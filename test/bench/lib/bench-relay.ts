import { readFile, rm, writeFile } from 'node:fs/promises';
import {
  freeTcpPort,
  freeUdpPort,
  type RelayLaunch,
  type RelayProcess,
  type RelaySetup,
  STACK_RADIUS_SECRET,
  spawnRelay,
  stackDir,
  writeRelayConfig,
} from '../../support/stack.ts';
import { RadiusLoginClient } from './radius-load.ts';

/**
 * The relay side of an end-to-end benchmark or load test: `duo-relay start` as a child (its RSS is
 * its own) on free loopback ports, in front of `edgeUrl`, and a NAS client pointed at it.
 */
export interface BenchRelay {
  relay: RelayProcess;
  client: RadiusLoginClient;
  /** Closes the client, stops the relay and removes its files; the edge is the caller's. */
  close(): Promise<void>;
}

/**
 * Defaults: site-b with failmode secure (one blocking Duo call per push, no polling traffic
 * competing for the cores), auth timeout 70 s (above Duo's 60 s push), log level error. Rejects
 * are not delayed and primary checks not capped: the NAS client here is one host running
 * closed loops without retransmits, and the numbers are the relay's throughput, not its brakes.
 */
export type BenchRelaySetup = Pick<RelaySetup, 'preauthTimeoutMs'> &
  Partial<Omit<RelaySetup, 'edgeUrls' | 'radiusPort' | 'managementPort'>>;

export async function startBenchRelay(
  name: string,
  edgeUrl: string,
  setup: BenchRelaySetup,
  opts: {
    /** UDP sockets of the NAS client, 256 identifiers each. */
    lanes?: number;
    /** Last edit of relay.toml, for settings RelaySetup does not carry. */
    patchConfig?: (toml: string) => string;
    /** How the relay is started; default the checkout's sources (RELAY_FROM_CHECKOUT). */
    launch?: RelayLaunch;
  } = {},
): Promise<BenchRelay> {
  const dir = await stackDir(name);
  const radiusPort = await freeUdpPort();
  const managementPort = await freeTcpPort();
  const file = await writeRelayConfig(dir, {
    site: 'site-b',
    failmode: 'secure',
    authTimeoutMs: 70_000,
    logLevel: 'error',
    rejectDelayMs: 0,
    maxPrimaryChecks: 100_000,
    ...setup,
    edgeUrls: [edgeUrl],
    radiusPort,
    managementPort,
  });
  if (opts.patchConfig) await writeFile(file, opts.patchConfig(await readFile(file, 'utf8')));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const relay = await spawnRelay(file, managementPort, undefined, opts.launch).catch(async (error: unknown) => {
    await removeDir();
    throw error;
  });
  const client = await RadiusLoginClient.open({
    port: radiusPort,
    secret: STACK_RADIUS_SECRET,
    lanes: opts.lanes ?? 4,
  });
  return {
    relay,
    client,
    async close() {
      await client.close();
      await relay.stop();
      await removeDir();
    },
  };
}
