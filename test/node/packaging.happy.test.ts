import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { linuxBinary } from '../../scripts/release/build.ts';
import { RELAY_ENV, RELAY_NODE_FLAGS } from '../../scripts/release/runtimes.ts';
import { relayDockerfile } from '../support/dockerfile.ts';

/**
 * Static checks of the shipped packaging. No Docker engine or systemd runs in CI, so the image is
 * not built and the unit not started; these tests pin the properties an admin relies on. The
 * release tests (test/release) run the binary, the unit's ExecStart and the image's HEALTHCHECK.
 */

const root = `${resolve(import.meta.dirname, '../..')}/`;
const unitPath = `${root}local-relay/packaging/duo-relay.service`;
const unitText = readFileSync(unitPath, 'utf8');

/** systemd unit as section -> key -> every value assigned (keys like SystemCallFilter repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 1) throw new Error(`unparseable unit line: ${raw}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

describe('systemd unit', () => {
  const unit = parseUnit(unitText);
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const value = (key: string) => service.get(key)?.at(-1);

  it('runs as the dedicated user and restarts on failure', () => {
    expect(value('User')).toBe('duo-relay');
    expect(value('Group')).toBe('duo-relay');
    expect(value('Restart')).toBe('on-failure');
    expect(value('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(Number(value('LimitNOFILE'))).toBeGreaterThanOrEqual(4096);
    expect(value('StateDirectory')).toBe('duo-relay');
    expect(value('ConfigurationDirectory')).toBe('duo-relay');
    expect(value('ExecStart')).toBe('/usr/bin/duo-relay start --config /etc/duo-relay/relay.toml');
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('sets the hardening options', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      RestrictNamespaces: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
    };
    for (const [key, v] of Object.entries(expected)) expect(value(key), key).toBe(v);
    expect(value('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    // An empty bounding set: no capabilities at all.
    expect(service.get('CapabilityBoundingSet')).toEqual(['']);
    expect(service.get('SystemCallFilter')).toContain('@system-service');
  });

  it('runs the relay with the release malloc settings (RELAY_ENV), each once', () => {
    const env = (service.get('Environment') ?? []).filter((e) => e.startsWith('MALLOC_'));
    expect(env.sort()).toEqual(
      Object.entries(RELAY_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
    );
  });

  it('does not set MemoryDenyWriteExecute, which kills V8', () => {
    for (const [, keys] of unit) expect(keys.has('MemoryDenyWriteExecute')).toBe(false);
  });

  const analyzer = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  it.runIf(analyzer.status === 0)('keeps systemd-analyze exposure at or under 2.0 of 10', () => {
    const res = spawnSync('systemd-analyze', ['security', '--offline=yes', '--threshold=20', unitPath], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(res.stdout).toMatch(/Overall exposure level/);
    expect(res.status, res.stdout).toBe(0);
  });
});

describe('the docs for an npm install', () => {
  // Written out by hand for admins to copy: they drift from the release's settings unless pinned.
  it.each(['docs/deploy.md', 'local-relay/packaging/README.md'])(
    '%s starts Node with exactly the V8 settings the executables carry, and names the malloc settings',
    (doc) => {
      const text = readFileSync(`${root}${doc}`, 'utf8');
      const lines = [...text.matchAll(/\bnode((?: --[a-z0-9-]+(?:=\S+)?)+) /g)].map((m) => m[1]!.trim());
      expect(lines.length, 'a node command line').toBeGreaterThan(0);
      for (const flags of lines) expect(flags.split(' ')).toEqual([...RELAY_NODE_FLAGS]);
      for (const [k, v] of Object.entries(RELAY_ENV)) expect(text).toContain(`${k}=${v}`);
    },
  );
});

describe('Dockerfile', () => {
  const steps = relayDockerfile(root);
  const all = (instruction: string) => steps.filter((s) => s.instruction === instruction).map((s) => s.args);
  const final = steps.slice(steps.findLastIndex((s) => s.instruction === 'FROM'));
  const finalAll = (instruction: string) => final.filter((s) => s.instruction === instruction).map((s) => s.args);

  it('runs the single executable on Debian slim with no Node or npm in the image', () => {
    expect(finalAll('FROM')).toEqual(['debian:12-slim']);
    for (const step of steps) expect(`${step.instruction} ${step.args}`).not.toMatch(/\b(node|npm|nodejs)\b(?!-)/);
    expect(JSON.parse(finalAll('CMD').at(-1) ?? '[]')).toEqual([
      '/usr/bin/duo-relay',
      'start',
      '--config',
      '/etc/duo-relay/relay.toml',
    ]);
    expect(finalAll('COPY')).toContain('--from=pick /duo-relay /usr/bin/duo-relay');
  });

  it('sets the release malloc settings (RELAY_ENV) for the relay', () => {
    const env = finalAll('ENV')
      .flatMap((args) => args.split(/\s+/))
      .filter((e) => e.startsWith('MALLOC_'));
    expect(env.sort()).toEqual(
      Object.entries(RELAY_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
    );
  });

  it('runs as a non-root user', () => {
    const user = finalAll('USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
  });

  it('runs the relay under an init that forwards signals', () => {
    expect(finalAll('RUN').some((r) => /apt-get install .*\btini\b/.test(r))).toBe(true);
    expect(JSON.parse(finalAll('ENTRYPOINT').at(-1) ?? '[]')).toEqual(['/usr/bin/tini', '--']);
  });

  it('exposes RADIUS over UDP and checks /healthz', () => {
    expect(finalAll('EXPOSE').join(' ').split(/\s+/)).toContain('1812/udp');
    expect(finalAll('HEALTHCHECK').at(-1) ?? '').toContain('/healthz');
  });

  it('copies exactly the Linux executables that npm run release writes', () => {
    const fromContext = all('COPY')
      .filter((args) => !args.startsWith('--from='))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(fromContext.sort()).toEqual([linuxBinary('arm64'), linuxBinary('x64')].sort());
    const ignore = readFileSync(`${root}local-relay/packaging/Dockerfile.dockerignore`, 'utf8');
    for (const file of fromContext) expect(ignore).toContain(`!${file}`);
  });
});
