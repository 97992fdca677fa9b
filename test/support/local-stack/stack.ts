import { type RelayRuntime, startRelay } from '../../../local-relay/src/cli/runtime.ts';
import { loadConfig } from '../../../local-relay/src/config/load.ts';
import { createLogger } from '../../../local-relay/src/log.ts';
import { type RunningEmulator, startEmulator } from '../duo-emulator/index.ts';
import { type RunningEdge, startEdge } from '../edge-harness.ts';
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
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };
  try {
    let emulator: RunningEmulator | undefined;
    if (!opts.duoApiBaseUrl) {
      emulator = await listening('Duo emulator', 'DUO_EDGE_EMULATOR_PORT', () =>
        startEmulator({ host: opts.host, port: opts.emulatorPort, autoAnswerPushes: !opts.manualPush }),
      );
      stops.push(() => emulator!.close());
    }
    const duoUrl = opts.duoApiBaseUrl ?? emulator!.url;
    const edgeUrl = `http://${opts.host}:${opts.edgePort}`;
    const files = await prepareStateDir(opts, edgeUrl);

    const edge: RunningEdge = await listening('edge worker', 'DUO_EDGE_EDGE_PORT', () =>
      startEdge({
        host: opts.host,
        port: opts.edgePort,
        persistDir: files.edgePersistDir,
        bindings: {
          DUO_API_BASE_URL: duoUrl,
          SITES_CONFIG: JSON.stringify(files.sitesConfig),
          EDGE_SIGNING_KEY: files.edgeSigningKeyPem,
          ADMIN_TOKEN: files.adminToken,
        },
      }),
    );
    stops.push(() => edge.stop());

    const loaded = await loadConfig(files.relayConfig);
    const relay: RelayRuntime = await listening('RADIUS relay', 'DUO_EDGE_RADIUS_PORT / DUO_EDGE_METRICS_PORT', () =>
      startRelay(loaded, {
        logger: createLogger(loaded.config.log.level),
        loadConfig: () => loadConfig(files.relayConfig),
      }),
    );
    stops.push(() => relay.stop());

    return {
      duoUrl,
      ...(emulator ? { emulatorUrl: emulator.url } : {}),
      edgeUrl: edge.url,
      radius: { host: opts.host, port: opts.radiusPort },
      metricsUrl: `http://${opts.host}:${opts.metricsPort}`,
      files,
      edgeAcceptsRelay: await policyFromEdge(relay),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** A port already taken is the likeliest start failure: say which part, and how to move it. */
async function listening<T>(what: string, envNames: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(message)) {
      throw new Error(
        `${what}: a port is already in use (another instance running? move it with ${envNames}): ${message}`,
      );
    }
    throw error;
  }
}

async function policyFromEdge(relay: RelayRuntime): Promise<boolean> {
  const until = Date.now() + POLICY_WAIT_MS;
  while (relay.policy.current().from !== 'edge') {
    if (Date.now() > until) return false;
    await relay.policy.refresh();
    if (relay.policy.current().from !== 'edge') await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}
