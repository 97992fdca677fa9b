import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { freeTcpPort } from './wait.ts';

/** Older name, still imported by some tests. */
export { freeTcpPort as freePort } from './wait.ts';

/**
 * A real Debian OpenLDAP `slapd` for tests: temp dir, slapd.conf, mdb database seeded by slapadd,
 * a throwaway CA, plain (with StartTLS) and LDAPS listeners on free loopback ports.
 *
 * Directory content (base dc=example,dc=org):
 * - ou=people: the demo users alice..grace (`<name>-pass`), `josé` (`jose-pass`, non-ASCII uid),
 *   and `twin` (`twin-pass`), which also exists in ou=contractors so a uid search matches twice.
 * - ou=groups: cn=vpn-users (alice, bob, carol, dave, erin, and the group cn=vpn-contractors),
 *   cn=vpn-contractors (frank). grace and josé are in no group. The groups are added over LDAP
 *   after start so the memberof overlay fills `memberOf` (direct groups only).
 * - ou=services: cn=relay-svc, the service account.
 *
 * `allow bind_anon_dn` is on: a DN with an empty password binds (as anonymous), as many servers do.
 * That lets a test prove the relay refuses empty passwords by itself, not because slapd does.
 */
export interface Slapd {
  ldapUrl: string;
  ldapsUrl: string;
  /** The same listeners reached through 127.0.0.2: an address the server certificate does not name. */
  ldapUrlWrongName: string;
  ldapsUrlWrongName: string;
  caFile: string;
  baseDn: string;
  serviceDn: string;
  servicePassword: string;
  rootDn: string;
  rootPassword: string;
  stop(): Promise<void>;
}

const BASE_DN = 'dc=example,dc=org';
const ROOT_DN = `cn=admin,${BASE_DN}`;
const ROOT_PASSWORD = 'root-secret';
const SERVICE_DN = `cn=relay-svc,ou=services,${BASE_DN}`;
const SERVICE_PASSWORD = 'svc-pass';
const DEMO_USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'] as const;
const START_TIMEOUT_MS = 20_000;

const run = promisify(execFile);

export interface SlapdOptions {
  /** Entries `uid=bulkNNNNN,ou=bulk,<base>` seeded for large-search tests (each with a few attributes). */
  bulkEntries?: number;
}

export async function startSlapd(opts: SlapdOptions = {}): Promise<Slapd> {
  const dir = await mkdtemp(join(tmpdir(), 'duo-edge-slapd-'));
  let child: ChildProcess | undefined;
  try {
    await mkdir(join(dir, 'db'));
    const caFile = await makeCertificates(dir);
    const [ldapPort, ldapsPort] = [await freeTcpPort(), await freeTcpPort()];
    await writeFile(join(dir, 'slapd.conf'), slapdConf(dir, (opts.bulkEntries ?? 0) > 0));
    await writeFile(join(dir, 'seed.ldif'), seedLdif(opts.bulkEntries ?? 0));
    await run('slapadd', ['-f', join(dir, 'slapd.conf'), '-l', join(dir, 'seed.ldif')]);

    const listeners = [
      `ldap://127.0.0.1:${ldapPort}/`,
      `ldap://127.0.0.2:${ldapPort}/`,
      `ldaps://127.0.0.1:${ldapsPort}/`,
      `ldaps://127.0.0.2:${ldapsPort}/`,
    ].join(' ');
    const proc = spawn('slapd', ['-f', join(dir, 'slapd.conf'), '-h', listeners, '-d', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });

    const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
    await waitUntilServing(ldapUrl, proc, () => stderr);
    await addGroups(ldapUrl);

    const running = proc;
    return {
      ldapUrl,
      ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`,
      ldapUrlWrongName: `ldap://127.0.0.2:${ldapPort}`,
      ldapsUrlWrongName: `ldaps://127.0.0.2:${ldapsPort}`,
      caFile,
      baseDn: BASE_DN,
      serviceDn: SERVICE_DN,
      servicePassword: SERVICE_PASSWORD,
      rootDn: ROOT_DN,
      rootPassword: ROOT_PASSWORD,
      async stop() {
        await terminate(running);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) await terminate(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A throwaway CA and a server certificate for 127.0.0.1/localhost: ca.pem, server.pem, server.key in `dir`. */
export async function makeCertificates(dir: string): Promise<string> {
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=duo-edge test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  ]);
  await run('openssl', [
    'req',
    '-new',
    ...ec,
    '-subj',
    '/CN=localhost',
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
  ]);
  await writeFile(
    p('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n',
  );
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
    '-out',
    p('server.pem'),
  ]);
  return p('ca.pem');
}

function slapdConf(dir: string, unlimitedSearches: boolean): string {
  return `${unlimitedSearches ? 'sizelimit unlimited\n' : ''}include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile ${join(dir, 'slapd.pid')}
allow bind_anon_dn
TLSCACertificateFile ${join(dir, 'ca.pem')}
TLSCertificateFile ${join(dir, 'server.pem')}
TLSCertificateKeyFile ${join(dir, 'server.key')}

database mdb
suffix "${BASE_DN}"
rootdn "${ROOT_DN}"
rootpw ${ROOT_PASSWORD}
directory ${join(dir, 'db')}
maxsize 33554432
index objectClass eq
index uid eq
index member eq
overlay memberof
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
`;
}

function seedLdif(bulk: number): string {
  const entries = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example`,
    ...['people', 'groups', 'services', 'contractors'].map(
      (ou) => `dn: ou=${ou},${BASE_DN}\nobjectClass: organizationalUnit\nou: ${ou}`,
    ),
    `dn: ${SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: relay-svc\nuserPassword: ${SERVICE_PASSWORD}`,
    ...DEMO_USERS.map((name) => person(`uid=${name},ou=people,${BASE_DN}`, name, `${name}-pass`)),
    person(`uid=twin,ou=people,${BASE_DN}`, 'twin', 'twin-pass'),
    person(`uid=twin,ou=contractors,${BASE_DN}`, 'twin', 'twin-pass'),
    // LDIF carries non-ASCII values base64-encoded (`::`).
    [
      `dn:: ${b64(`uid=josé,ou=people,${BASE_DN}`)}`,
      'objectClass: inetOrgPerson',
      `uid:: ${b64('josé')}`,
      'cn: Jose',
      'sn: Jose',
      'userPassword: jose-pass',
    ].join('\n'),
    ...(bulk > 0 ? [`dn: ou=bulk,${BASE_DN}\nobjectClass: organizationalUnit\nou: bulk`] : []),
    ...Array.from({ length: bulk }, (_, i) => {
      const uid = `bulk${String(i).padStart(5, '0')}`;
      return `${person(`uid=${uid},ou=bulk,${BASE_DN}`, uid, `${uid}-pass`)}\ndescription: bulk entry ${i} ${'x'.repeat(i % 97)}`;
    }),
  ];
  return `${entries.join('\n\n')}\n`;
}

function person(dn: string, uid: string, password: string): string {
  // mail stands in for Active Directory's userPrincipalName (OpenLDAP's schema has no UPN).
  return `dn: ${dn}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nmail: ${uid}@corp.example.com\nuserPassword: ${password}`;
}

function b64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

async function addGroups(ldapUrl: string): Promise<void> {
  const client = new Client({ url: ldapUrl, timeout: 5000, connectTimeout: 5000 });
  try {
    await client.bind(ROOT_DN, ROOT_PASSWORD);
    const people = (names: string[]) => names.map((n) => `uid=${n},ou=people,${BASE_DN}`);
    await client.add(`cn=vpn-contractors,ou=groups,${BASE_DN}`, {
      objectClass: 'groupOfNames',
      cn: 'vpn-contractors',
      member: people(['frank']),
    });
    await client.add(`cn=vpn-users,ou=groups,${BASE_DN}`, {
      objectClass: 'groupOfNames',
      cn: 'vpn-users',
      member: [...people(['alice', 'bob', 'carol', 'dave', 'erin']), `cn=vpn-contractors,ou=groups,${BASE_DN}`],
    });
  } finally {
    await client.unbind();
  }
}

async function waitUntilServing(url: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`slapd exited (${proc.exitCode ?? proc.signalCode}): ${stderr()}`);
    }
    const client = new Client({ url, timeout: 1000, connectTimeout: 1000 });
    try {
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.unbind().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`slapd did not answer within ${START_TIMEOUT_MS} ms: ${String(lastError)}; ${stderr()}`);
}

async function terminate(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const killTimer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killTimer);
}

/**
 * A "hung directory": accepts TCP connections and never sends a byte. Counts connections, so a
 * test can also prove that no connection was made at all.
 */
export interface SilentServer {
  url: string;
  port: number;
  connections(): number;
  stop(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  return {
    url: `ldap://127.0.0.1:${address.port}`,
    port: address.port,
    connections: () => count,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The relay's LDAP primary settings (schema input) for this directory: users under ou=people by
 * `uid`, service account bound, CA trusted. Tests spread their variations over it.
 */
export function slapdPrimaryConfig(slapd: Slapd, transport: 'ldaps' | 'starttls' | 'clear' = 'ldaps') {
  return {
    hosts: [transport === 'ldaps' ? slapd.ldapsUrl : slapd.ldapUrl],
    transport,
    ca_file: slapd.caFile,
    service_account_dn: slapd.serviceDn,
    service_account_password: slapd.servicePassword,
    search_dn: slapd.baseDn,
    username_attribute: 'uid',
    connect_timeout_ms: 2000,
    timeout_ms: 2000,
  };
}
