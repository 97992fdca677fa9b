import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { parseListen } from '../config/addresses.ts';
import type { LdapServerConfig } from '../config/schema.ts';
import type { FlowDeps } from '../flow/index.ts';
import type { LdapConfig } from '../primary/ldap-config.ts';
import { ldapEndpoints } from '../primary/ldap-config.ts';
import { connectionSettingsOf } from '../primary/ldap-connection.ts';
import type { BindPolicy } from './bind.ts';
import { parseDn } from './dn.ts';
import { type LdapEvent, ProxySession } from './session.ts';
import { openUpstream } from './upstream.ts';
import { createUsernameOf } from './username.ts';

/**
 * The `[[ldap_server]]` listeners: plain LDAP (StartTLS offered when a certificate is set) and
 * LDAPS, each accepted connection proxied to the `[primary]` directory by its own ProxySession.
 * Connections over the overall or per-address limit are closed at once and counted.
 */

export interface LdapServers {
  addresses: Array<{ host: string; port: number; tls: boolean }>;
  counters(): Readonly<Record<string, number>>;
  connections(): number;
  stop(): Promise<void>;
}

/** Nesting of constructed elements in a request; filters are the deepest LDAP gets in practice. */
const MAX_REQUEST_DEPTH = 32;
/** One search entry from the directory (an entry with photos and certificates stays well under). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export async function startLdapServers(
  sections: ReadonlyArray<LdapServerConfig>,
  directory: LdapConfig,
  deps: { flowDeps: (section: string, site: string | undefined) => Omit<FlowDeps, 'primary'>; logger: Logger },
): Promise<LdapServers> {
  const log = deps.logger.child({ component: 'ldap-server' });
  const counts: Record<string, number> = {};
  const count = (event: LdapEvent | 'rejected_limit_total' | 'rejected_limit_per_ip') => {
    counts[event] = (counts[event] ?? 0) + 1;
  };
  const endpoints = ldapEndpoints(directory);
  const settings = connectionSettingsOf(directory);
  const usernameOf = createUsernameOf(directory, endpoints, settings);
  const servers: Server[] = [];
  const live = new Set<Socket>();
  const addresses: LdapServers['addresses'] = [];

  try {
    for (const [i, section] of sections.entries()) {
      const name = sections.length > 1 ? `ldap_server_auto${i + 1}` : 'ldap_server_auto';
      const context = section.tls_cert_file
        ? createSecureContext({
            cert: readFileSync(section.tls_cert_file),
            key: readFileSync(section.tls_key_file!),
            minVersion: section.minimum_tls_version,
          })
        : undefined;
      const policy = bindPolicyOf(section);
      const sectionDeps = deps.flowDeps(name, section.site);
      const flowDeps = { ...sectionDeps, policy: withoutPasscode(sectionDeps.policy) };
      const perIp = new Map<string, number>();
      let total = 0;

      const accept = (socket: Socket, ldaps: boolean) => {
        const ip = socket.remoteAddress ?? '';
        if (total >= section.max_connections || (perIp.get(ip) ?? 0) >= section.max_connections_per_ip) {
          count(total >= section.max_connections ? 'rejected_limit_total' : 'rejected_limit_per_ip');
          socket.destroy();
          return;
        }
        total++;
        perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
        live.add(socket);
        socket.on('error', () => {});
        const client = ldaps ? new TLSSocket(socket, { isServer: true, secureContext: context! }) : socket;
        const session = new ProxySession(client, {
          clientAddress: ip.replace(/^::ffff:/, ''),
          ...(context && !ldaps ? { startTls: context } : {}),
          openUpstream: () => openUpstream(endpoints, settings),
          upstreamTimeoutMs: directory.timeout_ms,
          idleTimeoutMs: section.idle_timeout_ms,
          maxRequestBytes: section.max_message_bytes,
          maxResponseBytes: MAX_RESPONSE_BYTES,
          maxDepth: MAX_REQUEST_DEPTH,
          allowSearchesAfterBind: section.allow_searches_after_bind,
          bind: { policy, flowDeps, usernameOf },
          count,
          logger: log,
          onClose: () => {
            total--;
            const left = (perIp.get(ip) ?? 1) - 1;
            if (left > 0) perIp.set(ip, left);
            else perIp.delete(ip);
            live.delete(socket);
          },
        });
        void session.start();
      };

      const listen = async (address: string, ldaps: boolean) => {
        const at = parseListen(address)!;
        const server = createServer((socket) => accept(socket, ldaps));
        servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: at.host, port: at.port }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        const bound = server.address();
        const port = bound && typeof bound === 'object' ? bound.port : at.port;
        addresses.push({ host: at.host, port, tls: ldaps });
      };
      for (const address of section.listen) await listen(address, false);
      for (const address of section.ldaps_listen) await listen(address, true);
    }
  } catch (error) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw error;
  }
  log.info({ addresses }, 'LDAP proxy listening');

  return {
    addresses,
    counters: () => ({ ...counts }),
    connections: () => live.size,
    async stop() {
      const closed = Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      for (const socket of live) socket.destroy();
      await closed;
    },
  };
}

function bindPolicyOf(s: LdapServerConfig): BindPolicy {
  return {
    exemptPrimaryBind: s.exempt_primary_bind,
    // The schema refuses an exempt_ou that is not a DN; flatMap keeps a bad one from exempting all.
    exemptOu: s.exempt_ou.flatMap((ou) => {
      const dn = parseDn(ou);
      return dn ? [dn] : [];
    }),
    allowUnlimitedBinds: s.allow_unlimited_binds,
    flow: {
      exemptUsernames: s.exempt_usernames,
      clientIpAttr: 'none',
      ...(s.factors ? { factors: s.factors } : {}),
      allowConcat: s.allow_concat,
      delimiter: s.delimiter,
      delimitedPasswordLength: s.delimited_password_length,
    },
  };
}

/** The site policy's factors without `passcode`, which needs a challenge round a bind cannot have. */
function withoutPasscode(policy: FlowDeps['policy']): FlowDeps['policy'] {
  return {
    ...policy,
    factors: () => policy.factors?.()?.filter((f) => f !== 'passcode'),
  };
}
