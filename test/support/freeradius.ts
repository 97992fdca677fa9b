import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, decodePacket } from '../../local-relay/src/radius/index.ts';
import { buildRequest, openUdpPeer, radclient } from './radclient.ts';
import { freeUdpPort } from './wait.ts';

/**
 * Starts Debian's FreeRADIUS 3.2 in the foreground on a free loopback port with a minimal config
 * written to a temp dir (never the system service): the `files` module for users, `pap`, one
 * auth virtual server, plus a status virtual server on a second port for readiness and counters.
 * Every Access-Accept/Reject carries a Message-Authenticator (3.2.1 only signs replies when asked
 * to) so clients can verify it. Used as the upstream primary and as the bench peer.
 */

export interface FreeRadiusUser {
  name: string;
  password: string;
  /** Reply items in users-file syntax, written verbatim: `{ 'Reply-Message': '"Hello"', Class: '0x01' }`. */
  replyAttrs?: Record<string, string>;
  /** Check items the request must match, users-file syntax: `{ 'Connect-Info': '"gold"' }` → `Connect-Info == "gold"`. */
  checkAttrs?: Record<string, string>;
}

export interface FreeRadiusOptions {
  users: FreeRadiusUser[];
  /** `ip` may be an address or a CIDR. */
  clients: Array<{ ip: string; secret: string }>;
  /** Per-client `require_message_authenticator` (default true). */
  requireMessageAuthenticator?: boolean;
  /** Worker threads (default 4). */
  threads?: number;
  /** Adds -xx (debug lines on stdout, see `logs()`). */
  debug?: boolean;
  /**
   * Enables the `mschap` module (MS-CHAPv1/v2 against each user's Cleartext-Password): replies carry
   * MS-CHAP2-Success with MS-MPPE-Send/Recv-Key, or MS-CHAP-Error. Default false.
   */
  mschap?: boolean;
  /** Unlang run first in `authorize`, written verbatim (e.g. a policy that answers with a challenge). */
  authorizeFirst?: string;
}

export interface FreeRadiusHandle {
  host: string;
  port: number;
  dir: string;
  pid: number;
  /** The server's log file (debug lines too with `debug: true`). */
  logs(): string;
  /**
   * The server's own counters (FreeRADIUS-Statistics-Type = Authentication, from its status
   * virtual server), e.g. `FreeRADIUS-Total-Auth-Invalid-Requests` for bad Message-Authenticators.
   */
  stats(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startFreeRadius(opts: FreeRadiusOptions): Promise<FreeRadiusHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'freeradius-'));
  // Another process can grab the probed port before FreeRADIUS binds it: retry on a fresh one.
  for (let attempt = 0; ; attempt++) {
    const ports = { auth: await freeUdpPort(), status: await freeUdpPort() };
    const statusSecret = randomBytes(16).toString('hex');
    await writeConfig(dir, ports, statusSecret, opts);
    try {
      return await launch(dir, ports, statusSecret, opts);
    } catch (error) {
      if (attempt >= 2) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

async function launch(
  dir: string,
  ports: { auth: number; status: number },
  statusSecret: string,
  opts: FreeRadiusOptions,
): Promise<FreeRadiusHandle> {
  // Logging to a file keeps a busy server's log lines off the caller's event loop (the bench).
  const logFile = join(dir, 'radius.log');
  const args = ['-f', '-l', logFile, '-d', dir, ...(opts.debug ? ['-xx'] : [])];
  const child = spawn('freeradius', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const logs = () => {
    try {
      return readFileSync(logFile, 'utf8') + stderr;
    } catch {
      return stderr;
    }
  };
  try {
    await waitReady(child, ports.status, statusSecret, logs);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    host: '127.0.0.1',
    port: ports.auth,
    dir,
    pid: child.pid!,
    logs,
    stats: async () => {
      const r = await radclient({
        port: ports.status,
        secret: statusSecret,
        command: 'status',
        attributes: ['FreeRADIUS-Statistics-Type = Authentication'],
      });
      return Object.fromEntries(
        r.attributes.map((a) => [a.name, Number(a.value)]).filter(([, v]) => Number.isFinite(v)),
      );
    },
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Ready = the status virtual server answers a Status-Server (all listeners are bound by then). */
async function waitReady(child: ChildProcess, statusPort: number, secret: string, logs: () => string): Promise<void> {
  const peer = await openUdpPeer();
  try {
    const deadline = Date.now() + 15_000;
    for (let id = 0; Date.now() < deadline; id = (id + 1) & 0xff) {
      if (child.exitCode !== null) throw new Error(`FreeRADIUS exited (${child.exitCode}):\n${logs()}`);
      const probe = buildRequest({ secret, identifier: id, code: Code.StatusServer });
      peer.send(probe.bytes, statusPort);
      const reply = await peer.next(200);
      if (reply && decodePacket(reply).ok) return;
    }
    throw new Error(`FreeRADIUS not ready after 15 s:\n${logs()}`);
  } finally {
    await peer.close();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

async function writeConfig(
  dir: string,
  ports: { auth: number; status: number },
  statusSecret: string,
  opts: FreeRadiusOptions,
): Promise<void> {
  const threads = opts.threads ?? 4;
  const requireMa = (opts.requireMessageAuthenticator ?? true) ? 'yes' : 'no';
  const clients = opts.clients
    .map(
      (c, i) => `client c${i} {
  ipaddr = ${c.ip}
  secret = ${quote(c.secret)}
  require_message_authenticator = ${requireMa}
}`,
    )
    .join('\n');
  const users = opts.users
    .map((u) => {
      const reply = Object.entries(u.replyAttrs ?? {}).map(([k, v]) => `\t${k} = ${v}`);
      const check = Object.entries(u.checkAttrs ?? {}).map(([k, v]) => `, ${k} == ${v}`);
      return `${quote(u.name)} Cleartext-Password := ${quote(u.password)}${check.join('')}\n${reply.join(',\n')}\n`;
    })
    .join('\n');
  // An empty `dictionary` in the confdir: the main dictionaries come from /usr/share/freeradius.
  await writeFile(join(dir, 'dictionary'), '');
  await writeFile(join(dir, 'users'), users);
  await writeFile(
    join(dir, 'radiusd.conf'),
    `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = \${exec_prefix}/sbin
confdir = ${dir}
raddbdir = ${dir}
logdir = ${dir}
run_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {
  colourise = no
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = yes
}
proxy_requests = no
${clients}
thread pool {
  start_servers = ${threads}
  max_servers = ${threads}
  min_spare_servers = 1
  max_spare_servers = ${threads}
  max_requests_per_server = 0
}
modules {
  pap {
  }
  always ok {
    rcode = ok
  }
  always handled {
    rcode = handled
  }
  always reject {
    rcode = reject
  }
${opts.mschap ? '  mschap {\n  }\n' : ''}  files {
    filename = ${dir}/users
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${ports.auth}
  }
  authorize {
${opts.authorizeFirst ?? ''}
    files
${opts.mschap ? '    mschap\n' : ''}    pap
    Autz-Type Status-Server {
      ok
    }
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
${opts.mschap ? '    Auth-Type MS-CHAP {\n      mschap\n    }\n' : ''}  }
  post-auth {
    update reply {
      Message-Authenticator := 0x00
    }
    Post-Auth-Type REJECT {
      update reply {
        Message-Authenticator := 0x00
      }
    }
  }
}
server status {
  listen {
    type = status
    ipaddr = 127.0.0.1
    port = ${ports.status}
  }
  client admin {
    ipaddr = 127.0.0.1
    secret = ${quote(statusSecret)}
  }
  authorize {
    ok
    Autz-Type Status-Server {
      ok
    }
  }
}
`,
  );
}
