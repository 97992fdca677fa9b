import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DockerStep {
  instruction: string;
  args: string;
}

/** Dockerfile instructions in order, with `\` continuations joined. */
export function parseDockerfile(text: string): DockerStep[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [instruction = '', ...rest] = l.split(/\s+/);
      return { instruction: instruction.toUpperCase(), args: rest.join(' ') };
    });
}

/** The relay image's Dockerfile. */
export function relayDockerfile(root: string): DockerStep[] {
  return parseDockerfile(readFileSync(join(root, 'local-relay/packaging/Dockerfile'), 'utf8'));
}

/**
 * The shell script of the image's `HEALTHCHECK CMD ["bash", "-c", script]`, pointed at another
 * management port so a test can run it against a relay it started.
 */
export function healthcheckScript(steps: DockerStep[], managementPort: number): string {
  const healthcheck = steps.filter((s) => s.instruction === 'HEALTHCHECK').at(-1)?.args ?? '';
  const cmd = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
  if (cmd[0] !== 'bash' || cmd[1] !== '-c' || cmd.length !== 3)
    throw new Error(`unexpected HEALTHCHECK: ${healthcheck}`);
  return cmd[2]!.replaceAll('/9812', `/${managementPort}`);
}
