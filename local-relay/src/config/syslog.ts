import { z } from 'zod';
import { FACILITIES, type Facility } from '../ops/syslog/format.ts';
import type { SyslogTarget } from '../ops/syslog/sink.ts';

/**
 * `[log] syslog = "udp://host:514" | "tcp://host:514" | "tls://host:6514"`, parsed once into the
 * sink's target. IPv6 hosts go in brackets (`udp://[2001:db8::1]:514`).
 */
export function parseSyslogUrl(value: string): Omit<SyslogTarget, 'ca'> | undefined {
  const m = /^(udp|tcp|tls):\/\/(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[4]);
  if (port < 1 || port > 65535) return undefined;
  return { transport: m[1] as SyslogTarget['transport'], host: (m[2] ?? m[3])!, port };
}

export const syslogFields = {
  syslog: z
    .string()
    .refine((v) => parseSyslogUrl(v) !== undefined, 'must be "udp://host:port", "tcp://host:port" or "tls://host:port"')
    .optional(),
  /** tls only: the CA that signed the receiver's certificate; default the system's CAs. */
  syslog_ca_file: z.string().min(1).optional(),
  /** authproxy's syslog_facility, without its `LOG_` prefix. */
  syslog_facility: z
    .string()
    .transform((v) => v.toLowerCase().replace(/^log_/, ''))
    .pipe(z.enum(Object.keys(FACILITIES) as [Facility, ...Facility[]]))
    .default('user'),
  /** Messages held while the receiver is unreachable; more are dropped and counted. */
  syslog_queue: z.number().int().min(1).max(100_000).default(1000),
};

export const syslogRefinement = (log: { syslog?: string | undefined; syslog_ca_file?: string | undefined }) =>
  log.syslog_ca_file === undefined || log.syslog?.startsWith('tls://') === true;
