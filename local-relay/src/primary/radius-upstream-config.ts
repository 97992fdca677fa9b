import { isIP } from 'node:net';
import { z } from 'zod';
import { type AttributeSelector, resolveAttributeName } from './radius-attribute-names.ts';

/**
 * The `[primary]` section for an upstream RADIUS server (Duo's `[radius_client]`). `secret` arrives
 * already resolved: the relay's config loader turns `file:` / `env:` references into the secret
 * before this schema sees it. One secret for every host, as in Duo.
 */

const DEFAULT_PORT = 1812;

const hostEntry = z
  .string()
  .min(1)
  .refine((value) => parseHostEntry(value) !== undefined, {
    message: 'must be `host`, `host:port`, `[ipv6]` or `[ipv6]:port`',
  });

export const radiusUpstreamConfigSchema = z
  .object({
    /** Failover order: the first host gets the first transmission, each retry goes to the next. */
    hosts: z.array(hostEntry).min(1),
    secret: z.string().min(1),
    /** Re-sends after the first transmission (Duo's default 3: up to 4 transmissions). */
    retries: z.number().int().min(0).max(10).default(3),
    /** Wait before each re-send, and after the last one before giving up (Duo's default 2 s). */
    retry_wait_ms: z.number().int().min(1).max(60_000).default(2000),
    /** BlastRADIUS: drop upstream replies without a valid Message-Authenticator. */
    require_message_authenticator: z.boolean().default(true),
    /** NAS-IP-Address (or NAS-IPv6-Address) sent upstream instead of the NAS's own. */
    nas_ip: z
      .string()
      .refine((v) => isIP(v) !== 0, 'must be an IP address')
      .optional(),
    /** NAS-Identifier sent upstream instead of the NAS's own. */
    nas_identifier: z.string().min(1).max(253).optional(),
    /** Attributes of the upstream Access-Accept copied into the relay's final Access-Accept. */
    pass_through_attr_names: z
      .array(z.string().min(1))
      .default([])
      .transform((names, ctx) => {
        const selectors: AttributeSelector[] = [];
        names.forEach((name, index) => {
          const r = resolveAttributeName(name);
          if (r.ok) selectors.push(r.selector);
          else ctx.addIssue({ code: 'custom', path: [index], message: r.message });
        });
        return selectors;
      }),
    /** Copy every attribute of the upstream Access-Accept except those bound to the upstream hop. */
    pass_through_all: z.boolean().default(false),
  })
  .strict();

export type RadiusUpstreamConfig = z.output<typeof radiusUpstreamConfigSchema>;
export type RadiusUpstreamConfigInput = z.input<typeof radiusUpstreamConfigSchema>;

export interface RadiusEndpoint {
  host: string;
  port: number;
}

function parseHostEntry(value: string): RadiusEndpoint | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match?.[1]) return undefined;
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** The hosts in failover order, each with its effective port. */
export function radiusEndpoints(config: Pick<RadiusUpstreamConfig, 'hosts'>): RadiusEndpoint[] {
  return config.hosts.map((value) => {
    const entry = parseHostEntry(value);
    if (!entry) throw new Error(`invalid RADIUS host ${value}`);
    return entry;
  });
}
