/**
 * npm run fuzz: the RADIUS and LDAP decoder fuzz in-process, then the live fuzz against a relay
 * child process.
 *
 *   npx node test/fuzz/run.ts [--iterations N | --seconds S] [--seed X] [--rate PPS]
 *                             [--only decoder|ldap|live] [--broken] [--json]
 *
 * --iterations bounds each phase by mutant count, --seconds by time (default: 20000 iterations).
 * --broken runs the live phase against a relay that skips the Message-Authenticator requirement
 * and accepts everyone: the run must then fail (it proves the oracle works).
 * Exits 1 on any violation; each one names (seed, index), which `generateMutant` rebuilds.
 */
import { parseArgs } from 'node:util';
import { type DecoderFuzzReport, runDecoderFuzz } from './decoder-fuzz.ts';
import { type LdapFuzzReport, runLdapFuzz } from './ldap-fuzz.ts';
import { type LiveFuzzReport, runLiveFuzz } from './live-fuzz.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    rate: { type: 'string' },
    only: { type: 'string' },
    broken: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const bound =
  values.seconds !== undefined
    ? { seconds: Number(values.seconds) }
    : { iterations: values.iterations === undefined ? 20_000 : Number(values.iterations) };

const reports: { decoder?: DecoderFuzzReport; ldap?: LdapFuzzReport; live?: LiveFuzzReport } = {};
if (values.only === undefined || values.only === 'decoder') {
  reports.decoder = runDecoderFuzz({ seed, ...bound });
  if (!values.json) printDecoder(reports.decoder);
}
if (values.only === undefined || values.only === 'ldap') {
  reports.ldap = runLdapFuzz({ seed, ...bound });
  if (!values.json) printLdap(reports.ldap);
}
if (values.only === undefined || values.only === 'live') {
  reports.live = await runLiveFuzz({
    seed,
    ...bound,
    broken: values.broken,
    ...(values.rate ? { rate: Number(values.rate) } : {}),
  });
  if (!values.json) printLive(reports.live);
}
if (values.json) console.log(JSON.stringify(reports, null, 2));
const violations =
  (reports.decoder?.violationCount ?? 0) + (reports.ldap?.violationCount ?? 0) + (reports.live?.violationCount ?? 0);
console.log(violations ? `FAIL: ${violations} violation(s), seed ${seed}` : `OK: no violations, seed ${seed}`);
process.exitCode = violations ? 1 : 0;

function printDecoder(r: DecoderFuzzReport): void {
  console.log(`decoder fuzz (seed ${r.seed})`);
  console.log(
    `  mutants            ${r.mutants} in ${r.seconds.toFixed(1)} s (${Math.round(r.mutants / r.seconds)}/s)`,
  );
  console.log(`  decoded ok         ${r.decoded}`);
  console.log(`  decode errors      ${fmt(r.decodeErrors)}`);
  console.log(`  Message-Auth       ${fmt(r.messageAuthenticator)}`);
  console.log(`  User-Password      unhidden ${r.passwords.unhidden}, rejected ${r.passwords.rejected}`);
  printViolations(r.violationCount, r.violations);
}

function printLdap(r: LdapFuzzReport): void {
  console.log(`LDAP BER decoder fuzz (seed ${r.seed})`);
  console.log(
    `  mutants            ${r.mutants} in ${r.seconds.toFixed(1)} s (${Math.round(r.mutants / r.seconds)}/s)`,
  );
  console.log(`  messages           framed ${r.framed}, decoded ${r.decoded}, binds ${r.binds}`);
  console.log(`  errors             ${fmt(r.errors)}`);
  printViolations(r.violationCount, r.violations);
}

function printLive(r: LiveFuzzReport): void {
  const c = r.serverCounters;
  console.log(`live fuzz (seed ${r.seed}${r.broken ? ', BROKEN relay' : ''})`);
  console.log(
    `  mutants sent       ${r.mutants} + ${r.replays} replays in ${r.seconds.toFixed(1)} s (${r.sentPerSecond}/s)`,
  );
  console.log(`  lost (not read)    ${r.lost}`);
  console.log(`  entitled           logins ${r.entitled.logins}, status-server ${r.entitled.statusServers}`);
  console.log(`  decode errors      ${fmt(r.decodeErrors)}`);
  const drops = [
    'malformed',
    'unsupported_code',
    'missing_message_authenticator',
    'bad_message_authenticator',
    'proxy_state_without_message_authenticator',
    'duplicates_in_flight',
    'unknown_client',
  ];
  console.log(`  server drops       ${fmt(Object.fromEntries(drops.map((d) => [d, c[d] ?? 0])))}`);
  console.log(`  server other       ${fmt(Object.fromEntries(Object.entries(c).filter(([k]) => !drops.includes(k))))}`);
  console.log(`  replies            ${fmt(r.replies)}`);
  console.log(`  crashes            ${r.crashes}`);
  console.log(`  unhandled          rejections ${r.unhandledRejections}, exceptions ${r.uncaughtExceptions}`);
  console.log(`  status-server      ${r.statusServerAnswered ? 'answered' : 'NOT answered'}`);
  console.log(`  relay RSS          ${(r.childRssBytes / 2 ** 20).toFixed(0)} MiB`);
  printViolations(r.violationCount, r.violations);
}

function printViolations(
  count: number,
  list: ReadonlyArray<{ kind: string; index: number; ops: string[]; detail: string }>,
) {
  console.log(`  violations         ${count}`);
  for (const v of list) console.log(`    - ${v.kind} #${v.index} [${v.ops.join(' ')}] ${v.detail.slice(0, 300)}`);
}

function fmt(o: Record<string, number>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
