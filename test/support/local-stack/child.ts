import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LaunchedChild, spawnChild } from '../launcher/child.ts';
import { DUO_RELAY_BIN, ROOT } from '../launcher/paths.ts';
import { runProcess } from '../process.ts';
import { freeTcpPort, freeUdpPort } from '../wait.ts';

/** Re-exported for the tests that spawn the stack and need a port for their own relay. */
export { freeUdpPort } from '../wait.ts';

/**
 * For end-to-end tests: `npm start`'s entry point as a child process on free ports with its own
 * state dir, and the `duo-relay` binary as an admin runs it.
 */

export const LOCAL_STACK_MAIN = join(ROOT, 'test/support/local-stack/main.ts');
const READY_LINE = 'Ctrl-C stops everything.';

export interface StackProcess {
  ports: { emulator: number; edge: number; radius: number; metrics: number };
  stateDir: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Sends the signal and resolves with the exit code (SIGKILL after killAfterMs). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

export async function spawnLocalStack(readyTimeoutMs = 90_000): Promise<StackProcess> {
  const ports = {
    emulator: await freeTcpPort(),
    edge: await freeTcpPort(),
    radius: await freeUdpPort(),
    metrics: await freeTcpPort(),
  };
  const stateDir = await mkdtemp(join(tmpdir(), 'duo-edge-local-'));
  // Its own process group, so a stop reaches workerd and the other grandchildren too: a SIGKILL
  // of the stack alone would orphan them.
  const child = spawnChild(process.execPath, [LOCAL_STACK_MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      DUO_EDGE_EMULATOR_PORT: String(ports.emulator),
      DUO_EDGE_EDGE_PORT: String(ports.edge),
      DUO_EDGE_RADIUS_PORT: String(ports.radius),
      DUO_EDGE_METRICS_PORT: String(ports.metrics),
      DUO_EDGE_STATE_DIR: stateDir,
      DUO_API_BASE_URL: '',
    },
    group: true,
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 30_000) => {
    const code = await child.stop(signal, killAfterMs);
    await rm(stateDir, { recursive: true, force: true });
    return code;
  };
  try {
    await waitForLine(child, READY_LINE, readyTimeoutMs);
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return { ports, stateDir, output: child.output, stop };
}

/** Resolves once `line` was printed; rejects on exit or after timeoutMs, with the output so far. */
async function waitForLine(child: LaunchedChild, line: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  while (!child.output().includes(line)) {
    if (exited) throw new Error(`local stack exited with ${await child.exited}:\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`local stack not ready:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `duo-relay ARGS` with `input` on stdin; killed after killAfterMs. */
export function runDuoRelay(args: string[], input = '', killAfterMs = 60_000): Promise<CliRun> {
  return runProcess(process.execPath, [DUO_RELAY_BIN, ...args], { input, cwd: ROOT, killAfterMs });
}
