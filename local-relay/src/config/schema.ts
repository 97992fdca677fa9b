import { fromBase64Url } from '@duo-edge/contract/encoding';
import { HEARTBEAT_INTERVAL_MS } from '@duo-edge/contract/heartbeat';
import { checkServiceUrl, SERVICE_URL_PROBLEM } from '@duo-edge/contract/url';
import { factorPreferenceSchema, failmodeSchema } from '@duo-edge/contract/wire';
import { z } from 'zod';
import { parseDn } from '../ldap/dn.ts';
import type { LdapConfig } from '../primary/ldap-config.ts';
import type { RadiusUpstreamConfig } from '../primary/radius-upstream-config.ts';
import { isIpOrCidr, parseListen } from './addresses.ts';
import { edgeProxyKeys, proxyKeyIssue } from './edge-proxy.ts';
import { type SecretContext, secretRef } from './secret-ref.ts';
import { sectionSite } from './section-site.ts';
import { syslogFields, syslogRefinement } from './syslog.ts';

/**
 * relay.toml, validated once. Option names follow authproxy.cfg where the concept is the same
 * (failmode, factors, exempt_usernames, allow_concat, delimiter, delimited_password_length,
 * client_ip_attr, prompt_format, enroll_challenge). Every table is strict: a misspelt key is an
 * error, not a silently ignored default. The schemas are built each time a config is read (start,
 * reload) and dropped after: a running relay does not keep them in memory.
 */

const ms = (def: number) => z.number().int().positive().default(def);

const relaySection = () =>
  z
    .object({
      site: z.string().min(1),
      /** Ed25519 private key (PKCS#8 PEM), made by `duo-relay keygen`. */
      key_file: z.string().min(1),
      /** Where the relay keeps state: last-known-good site policy, offline journal (`journal/`). */
      state_dir: z.string().min(1).default('state'),
      /**
       * Used only until a signed site policy has been fetched from the edge once; unset, the relay
       * uses `secure` then (it cannot know yet whether its site lets people in on a password).
       */
      failmode: failmodeSchema.optional(),
      /** On SIGTERM/SIGINT: how long in-flight logins may finish. */
      shutdown_grace_ms: ms(10_000),
      /**
       * Concurrent primary checks (scrypt hashes, LDAP binds, upstream RADIUS), overall and per
       * RADIUS client; a request over either cap is dropped and the NAS retransmits it later.
       */
      max_primary_checks: z.number().int().min(1).default(64),
      max_primary_checks_per_client: z.number().int().min(1).default(16),
    })
    .strict();

const edgePublicKey = () =>
  z.string().refine((v) => fromBase64Url(v)?.length === 32, 'must be base64url of a 32-byte Ed25519 key');

const edgeSection = (ctx: SecretContext) =>
  z
    .object({
      urls: z
        .array(
          z.string().superRefine((value, ctx) => {
            const checked = checkServiceUrl(value);
            if (!checked.ok) ctx.addIssue({ code: 'custom', message: SERVICE_URL_PROBLEM[checked.error] });
          }),
        )
        .min(1),
      /** The edge's decision-signing public keys (current, and the next one during a rotation). */
      public_keys: z.array(edgePublicKey()).min(1).max(4).optional(),
      /** One-key form of `public_keys`, kept for existing configs. */
      public_key: edgePublicKey().optional(),
      /** Raised at run time to the edge's deadline for the stage plus a margin (edge/stage-timeouts.ts). */
      preauth_timeout_ms: ms(12_000),
      auth_timeout_ms: ms(70_000),
      site_refresh_ms: ms(60_000),
      /** Consecutive transport failures that open the circuit breaker. */
      breaker_threshold: z.number().int().min(1).default(3),
      probe_interval_ms: ms(5_000),
      /** Signed POST /v1/heartbeat (version, uptime, breaker state, counters). */
      heartbeat_interval_ms: ms(HEARTBEAT_INTERVAL_MS),
      /**
       * Calls open at once to one edge URL over HTTP/2 (a push waiting for its human holds one);
       * more wait their turn. Past the edge's per-connection limit the relay opens another connection.
       */
      max_streams: z.number().int().min(1).max(100_000).default(20_000),
      ...edgeProxyKeys(ctx),
    })
    .strict()
    .transform(({ public_key, public_keys, ...rest }, issue) => {
      const proxyIssue = proxyKeyIssue(rest);
      if (proxyIssue) {
        issue.addIssue({ code: 'custom', path: [proxyIssue.path], message: proxyIssue.message });
        return z.NEVER;
      }
      if (public_key !== undefined && public_keys !== undefined) {
        issue.addIssue({
          code: 'custom',
          path: ['public_key'],
          message: 'set either public_keys or public_key (its one-key form), not both',
        });
        return z.NEVER;
      }
      const keys = public_keys ?? (public_key === undefined ? undefined : [public_key]);
      if (!keys) {
        issue.addIssue({
          code: 'custom',
          path: ['public_keys'],
          message: "required: the edge's decision-signing key(s)",
        });
        return z.NEVER;
      }
      return { ...rest, public_keys: keys };
    });

const logSection = () =>
  z
    .object({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      ...syslogFields,
    })
    .strict()
    .refine(syslogRefinement, { message: 'syslog_ca_file needs a tls:// syslog', path: ['syslog_ca_file'] })
    .default({ level: 'info', syslog_facility: 'user', syslog_queue: 1000 });

/** The management HTTP port: Prometheus /metrics, /healthz, /readyz. Loopback unless asked. */
const managementSection = () =>
  z
    .object({
      enabled: z.boolean().default(true),
      listen: z
        .string()
        .refine((v) => parseListen(v) !== undefined, 'must be "ip:port" (IPv6 as "[::1]:9812")')
        .default('127.0.0.1:9812'),
      /** Required to listen on a non-loopback address: metrics tell an attacker how the relay is doing. */
      allow_remote: z.boolean().default(false),
    })
    .strict()
    .default({ enabled: true, listen: '127.0.0.1:9812', allow_remote: false });

/** The offline journal (under relay.state_dir): decisions the edge has not seen yet. */
const journalSection = () =>
  z
    .object({
      /** Cap on the journal file; past it decisions are still answered but not journalled (counted). */
      max_bytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(64 * 1024 * 1024),
      /** How often pending records are uploaded (also right after the edge comes back). */
      upload_interval_ms: ms(30_000),
      /** What a journalled reply waits for: the write (kill -9 safe) or its fsync (power-loss safe). */
      sync: z.enum(['batch', 'before_reply']).default('batch'),
    })
    .strict()
    .default({ max_bytes: 64 * 1024 * 1024, upload_interval_ms: 30_000, sync: 'batch' });

function primarySection(ctx: SecretContext) {
  const usersFile = z.object({ path: z.string().min(1) }).strict();
  const ldapPassword = z.object({ service_account_password: secretRef(ctx) }).passthrough();
  const radiusSecret = z.object({ secret: secretRef(ctx) }).passthrough();
  return (
    z
      .object({ type: z.enum(['users_file', 'ldap', 'radius', 'none']) })
      .passthrough()
      // Async: the LDAP and upstream RADIUS schemas (and the LDAP library that checks an LDAP
      // filter) are loaded only for the primary that names them, so a users-file relay never
      // builds them.
      .transform(async (value, issue) => {
        const { type, ...rest } = value;
        const forward = (r: z.ZodSafeParseResult<unknown>) => {
          if (r.success) return r.data;
          for (const i of r.error.issues) issue.addIssue({ code: 'custom', message: i.message, path: i.path });
          return z.NEVER;
        };
        switch (type) {
          case 'users_file':
            return { type, ...(forward(usersFile.safeParse(rest)) as z.output<typeof usersFile>) };
          case 'ldap': {
            const withPassword = forward(ldapPassword.safeParse(rest)) as Record<string, unknown>;
            if (withPassword === z.NEVER) return z.NEVER;
            const { ldapConfigSchema } = await import('../primary/ldap-config.ts');
            return { type, ldap: forward(await ldapConfigSchema.safeParseAsync(withPassword)) as LdapConfig };
          }
          case 'radius': {
            const withSecret = forward(radiusSecret.safeParse(rest)) as Record<string, unknown>;
            if (withSecret === z.NEVER) return z.NEVER;
            const { radiusUpstreamConfigSchema } = await import('../primary/radius-upstream-config.ts');
            return { type, radius: forward(radiusUpstreamConfigSchema.safeParse(withSecret)) as RadiusUpstreamConfig };
          }
          case 'none':
            if (Object.keys(rest).length > 0) {
              issue.addIssue({
                code: 'custom',
                message: `type "none" takes no other keys (got ${Object.keys(rest).join(', ')})`,
              });
            }
            return { type };
        }
      })
  );
}

function clientSection(ctx: SecretContext) {
  return z
    .object({
      name: z.string().min(1),
      ip: z.string().refine(isIpOrCidr, 'must be an IP address or CIDR block'),
      secret: secretRef(ctx),
      require_message_authenticator: z.boolean().default(true),
      limit_proxy_state: z.boolean().default(true),
    })
    .strict();
}

/** An array, or authproxy.cfg's comma list (`factors = "auto,passcode"`). */
const factorList = () =>
  z
    .preprocess(
      (v) => (typeof v === 'string' ? v.split(',').map((f) => f.trim()) : v),
      z.array(factorPreferenceSchema).min(1),
    )
    .refine((l) => new Set(l).size === l.length, 'factors must not repeat');

const delimiter = () => z.string().min(1).default(',');
const delimitedPasswordLength = () => z.number().int().min(0).default(0);

function serverSection(ctx: SecretContext) {
  const common = {
    ...sectionSite,
    listen: z
      .array(z.string().refine((v) => parseListen(v) !== undefined, 'must be "ip:port" (IPv6 as "[::]:1812")'))
      .min(1)
      .default(['0.0.0.0:1812']),
    exempt_usernames: z.array(z.string().min(1)).default([]),
    client_ip_attr: z.enum(['default', 'paloalto', 'framed-ip-address', 'none']).default('default'),
    /** How long every Access-Reject waits before it is sent (0: at once). */
    reject_delay_ms: z.number().int().min(0).max(5_000).default(1_000),
    client: z.array(clientSection(ctx)).min(1),
  };
  return z.discriminatedUnion('mode', [
    z
      .object({
        mode: z.literal('auto'),
        ...common,
        /** Unset: the site policy's factors (from the edge), else `["auto"]`. */
        factors: factorList().optional(),
        allow_concat: z.boolean().default(true),
        delimiter: delimiter(),
        delimited_password_length: delimitedPasswordLength(),
      })
      .strict(),
    z
      .object({
        mode: z.literal('challenge'),
        ...common,
        prompt_format: z.enum(['console', 'html', 'short']).default('console'),
        enroll_challenge: z.boolean().default(true),
      })
      .strict(),
    z
      .object({
        mode: z.literal('concat'),
        ...common,
        delimiter: delimiter(),
        delimited_password_length: delimitedPasswordLength(),
      })
      .strict(),
    z
      .object({
        mode: z.literal('duo_only'),
        ...common,
        /** Required for duo_only with failmode safe: an edge outage then lets anyone with a username in. */
        duo_only_failopen_acknowledged: z.boolean().default(false),
      })
      .strict(),
  ]);
}

/**
 * `[[ldap_server]]` (authproxy's `ldap_server_auto`): an LDAP listener in front of the `[primary]`
 * directory that adds Duo to user binds. No `passcode` factor: a bind has no challenge round, a
 * passcode comes as the `,123456` suffix.
 */
const ldapListen = () =>
  z.string().refine((v) => parseListen(v) !== undefined, 'must be "ip:port" (IPv6 as "[::]:389")');
const ldapServerSection = () =>
  z
    .object({
      ...sectionSite,
      listen: z.array(ldapListen()).default([]),
      ldaps_listen: z.array(ldapListen()).default([]),
      /** PEM certificate chain and key: StartTLS on `listen`, and `ldaps_listen`. */
      tls_cert_file: z.string().min(1).optional(),
      tls_key_file: z.string().min(1).optional(),
      minimum_tls_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
      /** Duo's default is true: the first successful bind on each connection skips Duo. */
      exempt_primary_bind: z.boolean().default(false),
      /** Binds by DNs at or under these skip Duo (after the directory accepted the password). */
      exempt_ou: z
        .array(z.string().refine((v) => parseDn(v) !== undefined, 'must be a DN, e.g. "OU=Service Accounts,DC=corp"'))
        .default([]),
      exempt_usernames: z.array(z.string().min(1)).default([]),
      allow_searches_after_bind: z.boolean().default(true),
      allow_unlimited_binds: z.boolean().default(false),
      factors: z
        .preprocess(
          (v) => (typeof v === 'string' ? v.split(',').map((f) => f.trim()) : v),
          z.array(z.enum(['auto', 'push', 'phone'])).min(1),
        )
        .optional(),
      allow_concat: z.boolean().default(true),
      delimiter: delimiter(),
      delimited_password_length: delimitedPasswordLength(),
      idle_timeout_ms: ms(3_600_000),
      max_connections: z.number().int().positive().default(1000),
      max_connections_per_ip: z.number().int().positive().default(100),
      /** Largest request an application may send (a client message, not a search result). */
      max_message_bytes: z
        .number()
        .int()
        .min(1024)
        .default(1024 * 1024),
    })
    .strict()
    .superRefine((s, issue) => {
      if (s.listen.length + s.ldaps_listen.length === 0) {
        issue.addIssue({ code: 'custom', path: ['listen'], message: 'set listen and/or ldaps_listen' });
      }
      if ((s.tls_cert_file === undefined) !== (s.tls_key_file === undefined)) {
        issue.addIssue({
          code: 'custom',
          path: ['tls_key_file'],
          message: 'tls_cert_file and tls_key_file go together',
        });
      }
      if (s.ldaps_listen.length > 0 && s.tls_cert_file === undefined) {
        issue.addIssue({ code: 'custom', path: ['ldaps_listen'], message: 'needs tls_cert_file and tls_key_file' });
      }
    });

export function relayConfigSchema(ctx: SecretContext) {
  return z
    .object({
      relay: relaySection(),
      edge: edgeSection(ctx),
      log: logSection(),
      management: managementSection(),
      journal: journalSection(),
      primary: primarySection(ctx).optional(),
      server: z.array(serverSection(ctx)).default([]),
      ldap_server: z.array(ldapServerSection()).default([]),
    })
    .strict()
    .superRefine((c, issue) => {
      if (c.server.length + c.ldap_server.length === 0) {
        issue.addIssue({
          code: 'custom',
          path: ['server'],
          message: 'configure at least one [[server]] or [[ldap_server]]',
        });
      }
      if (c.ldap_server.length > 0 && c.primary?.type !== 'ldap') {
        issue.addIssue({
          code: 'custom',
          path: ['ldap_server'],
          message: '[[ldap_server]] proxies to the [primary] directory: it needs [primary] type = "ldap"',
        });
      }
      const needsPrimary = c.server.some((s) => s.mode !== 'duo_only');
      if (needsPrimary && (!c.primary || c.primary.type === 'none')) {
        issue.addIssue({
          code: 'custom',
          path: c.primary ? ['primary', 'type'] : ['primary'],
          message: 'modes auto, challenge and concat need a primary (users_file, ldap or radius)',
        });
      }
      const seen = new Map<string, string>();
      c.server.forEach((s, i) => {
        if (s.mode === 'duo_only') {
          // Unset, the site policy decides later, and it may well be `safe`.
          if (c.relay.failmode !== 'secure' && !s.duo_only_failopen_acknowledged) {
            issue.addIssue({
              code: 'custom',
              path: ['server', i, 'duo_only_failopen_acknowledged'],
              message:
                'mode duo_only has no primary: with failmode "safe" an edge outage would let anyone in. ' +
                'Set relay.failmode = "secure", or duo_only_failopen_acknowledged = true to accept that',
            });
          }
          if (s.exempt_usernames.length > 0) {
            issue.addIssue({
              code: 'custom',
              path: ['server', i, 'exempt_usernames'],
              message: 'mode duo_only has no primary: an exempt user would get in with no credential at all',
            });
          }
        }
        for (const listen of s.listen) {
          // Refinements run even when a field failed: skip what is already reported.
          const at = parseListen(listen);
          if (!at) continue;
          s.client.forEach((client, j) => {
            const key = `${at.host}|${at.port}|${client.ip}`;
            const other = seen.get(key);
            if (other) {
              issue.addIssue({
                code: 'custom',
                path: ['server', i, 'client', j, 'ip'],
                message: `${client.ip} on ${listen} is already served by ${other}`,
              });
            } else seen.set(key, `server[${i}].client[${j}]`);
          });
        }
      });
    });
}

export type RelayConfig = z.output<ReturnType<typeof relayConfigSchema>>;
export type ServerConfig = RelayConfig['server'][number];
export type LdapServerConfig = RelayConfig['ldap_server'][number];
export type PrimaryConfig = NonNullable<RelayConfig['primary']>;
