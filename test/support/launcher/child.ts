import { spawn } from 'node:child_process';
import type { ChildEnv } from '../process.ts';

/** A long-running child (the relay, or `npm start` itself) whose output a test reads. */
export interface LaunchedChild {
  pid: number;
  /** stdout and stderr so far (the last 200 kB). */
  output(): string;
  alive(): boolean;
  /** Resolves with the exit code once it exited. */
  exited: Promise<number | null>;
  /** Sends `signal`, SIGKILL after killAfterMs; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

const OUTPUT_KEPT = 200_000;

/**
 * Spawns `program args` with stdout and stderr captured. `group`: in its own process group, and
 * every signal goes to the group, so a stop reaches grandchildren (workerd) too; after the exit the
 * group gets a last SIGKILL for anything left behind.
 */
export function spawnChild(
  program: string,
  args: readonly string[],
  opts: { cwd: string; env?: ChildEnv; group?: boolean },
): LaunchedChild {
  const child = spawn(program, args, {
    cwd: opts.cwd,
    env: opts.env as NodeJS.ProcessEnv | undefined,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group ?? false,
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (opts.group) process.kill(-child.pid!, sig);
      else child.kill(sig);
    } catch {
      // Already gone.
    }
  };
  return {
    pid: child.pid!,
    output: () => output,
    alive,
    exited,
    async stop(sig = 'SIGTERM', killAfterMs = 10_000) {
      if (alive()) signal(sig);
      const timer = setTimeout(() => signal('SIGKILL'), killAfterMs);
      const code = await exited;
      clearTimeout(timer);
      if (opts.group) signal('SIGKILL');
      return code;
    },
  };
}
