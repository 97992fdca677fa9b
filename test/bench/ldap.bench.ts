/**
 * The LDAP proxy: the relay's [[ldap_server]] (a `duo-relay start` child process) in front of
 * slapd, against the same slapd directly, same load generator, same run.
 *
 *   npx node test/bench/ldap.bench.ts [--duration 4] [--bind-clients 16] [--search-clients 2]
 *                                     [--entries 5000] [--rounds 2]
 *
 * (a) simple binds per second: `--bind-clients` connections binding in a closed loop as the
 *     service account, which is under exempt_ou, so the relay makes the upstream bind and no Duo
 *     call: the cost measured is the proxy's own. A Duo-verified bind adds the edge round trips
 *     measured by bench:e2e.
 * (b) search throughput: `--search-clients` connections each repeating a subtree search of
 *     `--entries` entries; entries/s and MiB/s of LDAP messages.
 * Targets alternate (relay, direct) for `--rounds` rounds; the best round of each is reported.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { writeLdapProxyConfig } from '../support/ldap-proxy.ts';
import { startSlapd } from '../support/slapd.ts';
import { freeTcpPort, freeUdpPort, spawnRelay } from '../support/stack.ts';
import { benchArgs } from './lib/args.ts';
import { printHeader, table } from './lib/stats.ts';

const args = benchArgs({ duration: 4, 'bind-clients': 16, 'search-clients': 2, entries: 5000, rounds: 2 });
const BASE = 'ou=bulk,dc=example,dc=org';

const dir = await mkdtemp(join(tmpdir(), 'ldap-bench-'));
const slapd = await startSlapd({ bulkEntries: args.entries });
const ldapPort = await freeTcpPort();
const managementPort = await freeTcpPort();
const file = await writeLdapProxyConfig(dir, {
  site: 'site-a',
  failmode: 'secure',
  edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
  radiusPort: await freeUdpPort(),
  managementPort,
  preauthTimeoutMs: 1000,
  authTimeoutMs: 1000,
  logLevel: 'warn',
  slapd,
  ldapPort,
  section: ['exempt_ou = ["ou=services,dc=example,dc=org"]'],
});
const relay = await spawnRelay(file, managementPort);

const targets = { relay: `ldap://127.0.0.1:${ldapPort}`, slapd: slapd.ldapUrl } as const;
type Target = keyof typeof targets;

async function binds(url: string): Promise<number> {
  const clients = Array.from({ length: args['bind-clients'] }, () => new Client({ url, timeout: 10_000 }));
  let count = 0;
  const end = performance.now() + args.duration * 1000;
  const started = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        await c.bind(slapd.serviceDn, slapd.servicePassword);
        count++;
      }
      await c.unbind();
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

async function searches(url: string): Promise<{ entries: number; mib: number }> {
  let entries = 0;
  let bytes = 0;
  const end = performance.now() + args.duration * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: args['search-clients'] }, async () => {
      const c = new Client({ url, timeout: 60_000 });
      await c.bind(slapd.serviceDn, slapd.servicePassword);
      while (performance.now() < end) {
        const r = await c.search(BASE, { scope: 'one', filter: '(objectClass=inetOrgPerson)' });
        entries += r.searchEntries.length;
        for (const e of r.searchEntries) bytes += JSON.stringify(e).length;
      }
      await c.unbind();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { entries: entries / seconds, mib: bytes / seconds / 2 ** 20 };
}

try {
  const best: Record<Target, { binds: number; entries: number; mib: number }> = {
    relay: { binds: 0, entries: 0, mib: 0 },
    slapd: { binds: 0, entries: 0, mib: 0 },
  };
  for (let round = 0; round < args.rounds; round++) {
    for (const t of ['relay', 'slapd'] as const) {
      const b = await binds(targets[t]);
      const s = await searches(targets[t]);
      best[t] = {
        binds: Math.max(best[t].binds, b),
        entries: Math.max(best[t].entries, s.entries),
        mib: Math.max(best[t].mib, s.mib),
      };
    }
  }
  printHeader(
    'LDAP proxy: relay [[ldap_server]] vs slapd directly',
    `${args['bind-clients']} binding connections, ${args['search-clients']} searching connections, ${args.entries}-entry searches, ${args.duration} s per measurement, best of ${args.rounds} rounds`,
  );
  const row = (t: Target) => [
    t === 'relay' ? 'through the relay' : 'slapd directly',
    Math.round(best[t].binds),
    Math.round(best[t].entries),
    best[t].mib.toFixed(1),
  ];
  console.log(table(['target', 'binds/s', 'search entries/s', 'entry MiB/s (JSON)'], [row('relay'), row('slapd')]));
  console.log(
    `\nrelay / direct: binds ${(best.relay.binds / best.slapd.binds).toFixed(2)}, search ${(best.relay.entries / best.slapd.entries).toFixed(2)}`,
  );
} finally {
  await relay.stop();
  await slapd.stop();
  await rm(dir, { recursive: true, force: true });
}
