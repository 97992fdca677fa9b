import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runProcess } from '../process.ts';
import { freeTcpPort, freeUdpPort } from '../wait.ts';
import { ROOT } from './options.ts';

/** Re-exported for the tests that spawn the stack and need a port for their own relay. */
export { freeUdpPort } from '../wait.ts';

/**
 * For end-to-end tests: `npm start`'s entry point as a child process on free ports with its own
 * state dir, and the `duo-relay` binary as an admin runs it.
 */

export const LOCAL_STACK_MAIN = resolve(ROOT, 'test/support/local-stack/main.ts');
export const DUO_RELAY_BIN = resolve(ROOT, 'local-relay/bin/duo-relay.js');
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
  const child = spawn(process.execPath, [LOCAL_STACK_MAIN], {
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
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a stop reaches workerd and the other grandchildren too: a SIGKILL
    // of the stack alone would orphan them.
    detached: true,
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  let output = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const cleanup = () => rm(stateDir, { recursive: true, force: true });
  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`local stack not ready:\n${output}`)), readyTimeoutMs);
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes(READY_LINE)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited with ${code}:\n${output}`));
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 30_000) => {
    if (child.exitCode === null && child.signalCode === null) signalGroup(signal);
    const timer = setTimeout(() => signalGroup('SIGKILL'), killAfterMs);
    const code = await exited;
    clearTimeout(timer);
    // Whatever the stack left behind (it should leave nothing) goes with the group.
    signalGroup('SIGKILL');
    await cleanup();
    return code;
  };
  try {
    await ready;
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return { ports, stateDir, output: () => output, stop };
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
