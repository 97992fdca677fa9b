import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { radclient } from '../support/radclient.ts';
import { installRelayFrom, pinnedNodeEnv, type RelayInstall } from '../support/relay-install.ts';
import {
  freeTcpPort,
  freeUdpPort,
  type RelayProcess,
  STACK_RADIUS_SECRET,
  spawnRelay,
  writeRelayConfig,
} from '../support/stack.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The relay installed from this repository the way npm installs it: only the files its manifests
 * name, copied out of the checkout, `npm ci` for the relay workspace alone, then `duo-relay start`
 * under the pinned Node. A relay import that reaches into a folder the install does not carry
 * stops the start with ERR_MODULE_NOT_FOUND, which a check of the repository tree cannot see.
 */
describe('duo-relay installed from the repository into an empty folder', () => {
  let install: RelayInstall;
  let relay: RelayProcess | undefined;
  let radiusPort: number;

  beforeAll(async () => {
    install = await installRelayFrom(ROOT);
    expect(install.npm.code, install.npm.stderr).toBe(0);
    radiusPort = await freeUdpPort();
    const managementPort = await freeTcpPort();
    const config = await writeRelayConfig(join(install.dir, 'etc'), {
      site: 'site-a',
      failmode: 'safe',
      edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
      radiusPort,
      managementPort,
    });
    relay = await spawnRelay(config, managementPort, 30_000, {
      command: [install.bin],
      cwd: install.dir,
      env: pinnedNodeEnv(),
    });
  });

  afterAll(async () => {
    await relay?.stop();
    if (install) await rm(install.dir, { recursive: true, force: true });
  });

  it('answers Status-Server while the edge is unreachable', async () => {
    const reply = await radclient({ port: radiusPort, secret: STACK_RADIUS_SECRET, command: 'status' });
    expect(reply.code, relay?.output()).toBe('Access-Accept');
  });

  it('runs on the pinned Node, not whatever node the system has', async () => {
    const text = await (await fetch(`${relay!.managementUrl}/metrics`)).text();
    expect(text).toMatch(new RegExp(`^\\w*nodejs_version_info\\{version="${process.version}"`, 'm'));
  });
});
