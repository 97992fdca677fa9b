import type { RelayRuntime } from '../../../local-relay/src/cli/runtime.ts';
import { startRelay } from '../../../local-relay/src/cli/runtime.ts';
import { loadConfig } from '../../../local-relay/src/config/load.ts';
import type { DecisionHook } from '../../../local-relay/src/flow/index.ts';
import { createLogger } from '../../../local-relay/src/log.ts';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../duo-emulator/index.ts';
import type { EdgeSecretsAndVars } from '../edge-bindings.ts';
import { type RunningEdge, startEdge } from '../edge-harness.ts';

/**
 * The one way the local stack (`npm start`) and the test stacks start the Duo emulator, the edge
 * worker and the relay in this process. A start that fails says which part failed, and a port
 * already taken (the likeliest failure) says how to move it when the caller knows.
 */

export interface PartHint {
  /** How to move the part's port, e.g. the environment variable that sets it. */
  movePortWith?: string;
}

async function startPart<T>(what: string, hint: PartHint, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(message)) {
      const move = hint.movePortWith ? ` move it with ${hint.movePortWith}` : '';
      throw new Error(`${what}: a port is already in use (another instance running?${move}): ${message}`);
    }
    throw error;
  }
}

export interface DuoAndEdgeLaunch {
  host?: string;
  /** Omitted: a free port. */
  edgePort?: number;
  persistDir: string;
  /** An external Duo API instead of the embedded emulator. */
  duoApiBaseUrl?: string;
  emulator?: EmulatorOptions & { port?: number };
  /** The worker's bindings, given where Duo answers. */
  bindings(duoUrl: string): EdgeSecretsAndVars;
  hints?: { emulator?: PartHint; edge?: PartHint };
}

export interface LaunchedDuoAndEdge {
  /** Set when the embedded emulator runs. */
  emulator?: RunningEmulator;
  duoUrl: string;
  edge: RunningEdge;
  /** The worker first, then the emulator. */
  stop(): Promise<void>;
}

/** The Duo emulator (unless an external Duo is given), then the edge worker pointed at it. */
export async function launchDuoAndEdge(opts: DuoAndEdgeLaunch): Promise<LaunchedDuoAndEdge> {
  const emulator = opts.duoApiBaseUrl
    ? undefined
    : await startPart('Duo emulator', opts.hints?.emulator ?? {}, () =>
        startEmulator({ ...(opts.host === undefined ? {} : { host: opts.host }), ...opts.emulator }),
      );
  const duoUrl = opts.duoApiBaseUrl ?? emulator!.url;
  try {
    const edge = await startPart('edge worker', opts.hints?.edge ?? {}, () =>
      startEdge({
        bindings: opts.bindings(duoUrl),
        persistDir: opts.persistDir,
        ...(opts.host === undefined ? {} : { host: opts.host }),
        ...(opts.edgePort === undefined ? {} : { port: opts.edgePort }),
      }),
    );
    return {
      ...(emulator ? { emulator } : {}),
      duoUrl,
      edge,
      async stop() {
        try {
          await edge.stop();
        } finally {
          await emulator?.close();
        }
      },
    };
  } catch (error) {
    await emulator?.close();
    throw error;
  }
}

export interface RelayLaunchOptions {
  onDecision?: DecisionHook;
  /** SIGHUP and the reload command re-read the file, as the installed relay does. */
  reloadable?: boolean;
  hint?: PartHint;
}

/** The relay's `start` wiring on a config file, logging as the installed relay logs. */
export async function launchRelay(file: string, opts: RelayLaunchOptions = {}): Promise<RelayRuntime> {
  const loaded = await loadConfig(file);
  return startPart('RADIUS relay', opts.hint ?? {}, () =>
    startRelay(loaded, {
      logger: createLogger(loaded.config.log.level),
      ...(opts.reloadable ? { loadConfig: () => loadConfig(file) } : {}),
      ...(opts.onDecision ? { onDecision: opts.onDecision } : {}),
    }),
  );
}

/**
 * Whether the relay got its site policy from the edge within `timeoutMs`, asking again after each
 * miss: the edge accepting the relay's key is what makes the stack usable.
 */
export async function policyFromEdge(relay: RelayRuntime, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (relay.policy.current().from !== 'edge') {
    if (Date.now() > until) return false;
    await relay.policy.refresh();
    if (relay.policy.current().from !== 'edge') await new Promise((r) => setTimeout(r, 250));
  }
  return true;
}
