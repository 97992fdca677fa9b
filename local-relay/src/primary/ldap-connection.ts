import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import type { LdapConfig, LdapEndpoint } from './ldap-config.ts';

/** Opens one LDAP connection over the configured transport, TLS verified as configured. */

export interface ConnectionSettings {
  transport: 'ldaps' | 'starttls' | 'clear';
  /** PEM CA bundle; `undefined` trusts Node's bundled roots. */
  ca?: string;
  verifyHostname: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** The `[primary]` LDAP settings for opening connections (reads the CA file). */
export function connectionSettingsOf(config: LdapConfig): ConnectionSettings {
  return {
    transport: config.transport,
    ca: config.ca_file === undefined ? undefined : readFileSync(config.ca_file, 'utf8'),
    verifyHostname: config.verify_hostname,
    connectTimeoutMs: config.connect_timeout_ms,
    timeoutMs: config.timeout_ms,
  };
}

export async function openConnection(endpoint: LdapEndpoint, settings: ConnectionSettings): Promise<Client> {
  const host = isIP(endpoint.host) === 6 ? `[${endpoint.host}]` : endpoint.host;
  const scheme = settings.transport === 'ldaps' ? 'ldaps' : 'ldap';
  const client = new Client({
    url: `${scheme}://${host}:${endpoint.port}`,
    connectTimeout: settings.connectTimeoutMs,
    timeout: settings.timeoutMs,
    // Only for ldaps://: ldapts treats any tlsOptions as "connect with TLS", which StartTLS must not.
    tlsOptions: settings.transport === 'ldaps' ? tlsOptions(endpoint.host, settings) : undefined,
  });
  if (settings.transport !== 'starttls') return client;
  try {
    // ldapts bounds the connect and the StartTLS request, not the handshake that follows.
    await withTimeout(
      client.startTLS(tlsOptions(endpoint.host, settings)),
      settings.connectTimeoutMs + settings.timeoutMs,
      'StartTLS timed out',
    );
    return client;
  } catch (error) {
    await closeConnection(client);
    throw error;
  }
}

/** Unbinds and destroys the socket; never throws (the server may already be gone). */
export async function closeConnection(client: Client): Promise<void> {
  await client.unbind().catch(() => {});
}

/** TLS options for a directory host (ldaps, or the StartTLS upgrade). */
export function tlsOptions(host: string, settings: ConnectionSettings): ConnectionOptions {
  return {
    // `host` names the peer for the identity check after StartTLS (the socket is handed over).
    host,
    // SNI must be a DNS name (RFC 6066); for an IP address the certificate's IP SAN is checked.
    servername: isIP(host) ? undefined : host,
    ca: settings.ca,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    ...(settings.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // The loser of the race may still reject later; that must not become an unhandled rejection.
  promise.catch(() => {});
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
