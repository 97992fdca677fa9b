import type { RelayRuntime } from '../../../local-relay/src/cli/runtime.ts';
import { launchDuoAndEdge, launchRelay, policyFromEdge } from '../launcher/parts.ts';
import type { LocalStackOptions } from './options.ts';
import { prepareStateDir, type StackFiles } from './state-dir.ts';

/** The whole system on loopback: Duo emulator → edge worker (local D1 + DO) → relay. */
export interface LocalStack {
  /** Where the edge sends Duo calls: the embedded emulator or DUO_API_BASE_URL. */
  duoUrl: string;
  /** Set when the embedded emulator runs (its approval page is at `${emulatorUrl}/`). */
  emulatorUrl?: string;
  edgeUrl: string;
  radius: { host: string; port: number };
  /** The relay's management server: /metrics, /healthz, /readyz. */
  metricsUrl: string;
  files: StackFiles;
  /** False when the relay has not fetched its site policy from the edge yet (key not accepted?). */
  edgeAcceptsRelay: boolean;
  stop(): Promise<void>;
}

const POLICY_WAIT_MS = 15_000;

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const edgeUrl = `http://${opts.host}:${opts.edgePort}`;
  const files = await prepareStateDir(opts, edgeUrl);
  const duoAndEdge = await launchDuoAndEdge({
    host: opts.host,
    edgePort: opts.edgePort,
    persistDir: files.edgePersistDir,
    ...(opts.duoApiBaseUrl ? { duoApiBaseUrl: opts.duoApiBaseUrl } : {}),
    emulator: { port: opts.emulatorPort, autoAnswerPushes: !opts.manualPush },
    bindings: (duoUrl) => ({
      DUO_API_BASE_URL: duoUrl,
      SITES_CONFIG: JSON.stringify(files.sitesConfig),
      EDGE_SIGNING_KEY: files.edgeSigningKeyPem,
      ADMIN_TOKEN: files.adminToken,
    }),
    hints: { emulator: { movePortWith: 'DUO_EDGE_EMULATOR_PORT' }, edge: { movePortWith: 'DUO_EDGE_EDGE_PORT' } },
  });
  let relay: RelayRuntime | undefined;
  try {
    relay = await launchRelay(files.relayConfig, {
      reloadable: true,
      hint: { movePortWith: 'DUO_EDGE_RADIUS_PORT / DUO_EDGE_METRICS_PORT' },
    });
    const running = relay;
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await running.stop().catch(() => {});
      await duoAndEdge.stop().catch(() => {});
    };
    return {
      duoUrl: duoAndEdge.duoUrl,
      ...(duoAndEdge.emulator ? { emulatorUrl: duoAndEdge.emulator.url } : {}),
      edgeUrl: duoAndEdge.edge.url,
      radius: { host: opts.host, port: opts.radiusPort },
      metricsUrl: `http://${opts.host}:${opts.metricsPort}`,
      files,
      edgeAcceptsRelay: await policyFromEdge(relay, POLICY_WAIT_MS),
      stop,
    };
  } catch (error) {
    await relay?.stop().catch(() => {});
    await duoAndEdge.stop().catch(() => {});
    throw error;
  }
}
