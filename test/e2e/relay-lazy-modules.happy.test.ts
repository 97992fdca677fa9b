import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/launcher/paths.ts';
import { DUO_RELAY_BIN, freeTcpPort, freeUdpPort, spawnRelay, stackDir, writeRelayConfig } from '../support/stack.ts';

/**
 * A relay with a users-file primary does not load the LDAP library, the LDAP primary, the LDAP
 * proxy or the upstream RADIUS primary, nor build the config schemas of those primaries: each costs resident memory on every install, and most sites
 * use none of them. The LDAP side loading (and working) when configured is what the LDAP e2e tests
 * exercise through the same wiring. Nor does `start` load the other commands' modules, or the parts
 * of prom-client the relay has no use for (Pushgateway with node:https and node:zlib, cluster
 * aggregation, Summary); the commands' own tests and the metrics tests run those paths.
 */
describe('duo-relay start with a users file', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('loads no LDAP or upstream RADIUS code', async () => {
    const dir = await stackDir('lazy-modules');
    dirs.push(dir);
    const managementPort = await freeTcpPort();
    const file = await writeRelayConfig(dir, {
      site: 'site-a',
      // Nothing listens there: start does not wait for the edge.
      edgeUrls: ['http://127.0.0.1:9'],
      radiusPort: await freeUdpPort(),
      managementPort,
    });
    const trace = join(dir, 'modules.txt');
    const relay = await spawnRelay(file, managementPort, 30_000, {
      command: [process.execPath, '--import', join(ROOT, 'test/support/module-trace.mjs'), DUO_RELAY_BIN],
      cwd: ROOT,
      env: { ...process.env, MODULE_TRACE_FILE: trace },
    });
    await relay.stop();
    const loaded = (await readFile(trace, 'utf8')).split('\n');
    const relaySource = (path: string) => loaded.some((url) => url.endsWith(`/local-relay/src/${path}`));

    // The trace sees the relay's own modules, so an absence below means something.
    expect(relaySource('primary/users-file.ts')).toBe(true);
    expect(relaySource('server/server.ts')).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/ldapts/'))).toEqual([]);
    expect(loaded.filter((url) => /\/node_modules\/prom-client\/lib\/(counter|registry)\.js$/.test(url))).toHaveLength(
      2,
    );
    const promClientFile = (name: string) =>
      loaded.some((url) => url.endsWith(`/node_modules/prom-client/lib/${name}`));
    for (const unused of ['pushgateway.js', 'cluster.js', 'summary.js', 'timeWindowQuantiles.js']) {
      expect(promClientFile(unused), unused).toBe(false);
    }
    expect(loaded.filter((url) => url === 'node:zlib' || url === 'node:https')).toEqual([]);
    for (const lazy of [
      'cli/keygen.ts',
      'cli/read-password.ts',
      'cli/check.ts',
      'cli/import-authproxy.ts',
      'cli/test-auth.ts',
      'primary/ldap-config.ts',
      'primary/ldap-filter.ts',
      'primary/radius-upstream-config.ts',
      'primary/ldap.ts',
      'primary/ldap-connection.ts',
      'primary/ldap-wire-filter.ts',
      'primary/radius-upstream.ts',
      'primary/radius-transport.ts',
      'ldap/listener.ts',
      'ldap/session.ts',
      'ldap/upstream.ts',
    ]) {
      expect(relaySource(lazy), lazy).toBe(false);
    }
  });
});
