import { banner } from './banner.ts';
import { optionsFrom } from './options.ts';
import { startLocalStack } from './stack.ts';

/**
 * `npm start`: the local stack the README describes. Runs until SIGINT/SIGTERM/SIGHUP, then closes the relay,
 * the edge and the emulator and exits 0. A second signal, or a stop that hangs, exits at once.
 */

const STOP_DEADLINE_MS = 20_000;

let options: ReturnType<typeof optionsFrom>;
try {
  options = optionsFrom(process.env, process.argv.slice(2));
} catch (error) {
  process.stderr.write(`npm start: ${(error as Error).message}\n`);
  process.exit(64);
}

let stopping = false;
let stopStack: (() => Promise<void>) | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    process.stderr.write(`\n${signal} again: exiting without waiting\n`);
    process.exit(1);
  }
  stopping = true;
  process.stderr.write(`\n${signal}: stopping the local stack…\n`);
  setTimeout(() => {
    process.stderr.write('stop took too long; exiting\n');
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  void (stopStack?.() ?? Promise.resolve()).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
for (const signal of SIGNALS) process.on(signal, onSignal);

try {
  const stack = await startLocalStack(options);
  stopStack = stack.stop;
  // Miniflare installs handlers that exit at once (130/143) and would cut the relay's graceful stop
  // short. The stack closes the worker itself; Miniflare's process 'exit' hook stays as a backstop.
  for (const signal of SIGNALS) {
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }
  if (stopping) await stack.stop();
  else process.stdout.write(banner(stack, options.manualPush));
} catch (error) {
  process.stderr.write(`npm start failed: ${(error as Error).message}\n`);
  process.exit(1);
}
