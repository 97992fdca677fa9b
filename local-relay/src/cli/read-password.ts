import type { ReadStream } from 'node:tty';

/**
 * A password from stdin: the first line when piped, or typed at a prompt without echo (asked twice)
 * on a terminal. Never echoed, never logged.
 */
export async function readPassword(
  stdin: NodeJS.ReadStream = process.stdin,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  if (!stdin.isTTY) return firstLine(stdin);
  const first = await prompt(stdin as ReadStream, stderr, 'Password: ');
  const again = await prompt(stdin as ReadStream, stderr, 'Again: ');
  if (first !== again) throw new Error('passwords do not match');
  return first;
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

function prompt(stdin: ReadStream, stderr: NodeJS.WriteStream, label: string): Promise<string> {
  stderr.write(label);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
