import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Answers typed by a person (a terminal: prompts on stderr, secrets not echoed) or piped in (one
 * answer per line, in order). Lines that arrive before they are asked for are kept, so
 * `printf 'pass\n123456\n' | duo-relay test-auth frank` works. stdin is only touched on first use.
 */
export interface LineInput {
  /** The next line, or undefined once the input has ended (or Ctrl-C on a terminal). */
  ask(prompt: string, options?: { secret?: boolean }): Promise<string | undefined>;
  close(): void;
}

export function createLineInput(
  stdin: NodeJS.ReadStream = process.stdin,
  stderr: NodeJS.WriteStream = process.stderr,
): LineInput {
  let rl: Interface | undefined;
  let muted = false;
  let ended = false;
  const lines: string[] = [];
  const waiters: Array<(line: string | undefined) => void> = [];
  const terminal = stdin.isTTY === true;

  function open(): Interface {
    const output = new Writable({
      write(chunk, encoding, done) {
        if (!muted) stderr.write(chunk, encoding);
        done();
      },
    });
    const created = createInterface({ input: stdin, output, terminal });
    created.on('line', (line) => {
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    });
    created.on('close', () => {
      ended = true;
      for (const waiter of waiters.splice(0)) waiter(undefined);
    });
    created.on('SIGINT', () => created.close());
    return created;
  }

  return {
    async ask(prompt, options = {}) {
      rl ??= open();
      if (terminal) stderr.write(prompt);
      const queued = lines.shift();
      if (queued !== undefined) return queued;
      if (ended) return undefined;
      muted = terminal && options.secret === true;
      try {
        return await new Promise<string | undefined>((resolve) => waiters.push(resolve));
      } finally {
        if (muted) stderr.write('\n');
        muted = false;
      }
    },
    close() {
      rl?.close();
    },
  };
}
