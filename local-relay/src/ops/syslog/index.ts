import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ConfigError } from '../../config/errors.ts';
import type { RelayConfig } from '../../config/schema.ts';
import { parseSyslogUrl } from '../../config/syslog.ts';
import type { AuthEventFields } from '../auth-event.ts';
import { authEventMessage } from './auth-event.ts';
import { createSyslogSink } from './sink.ts';

export interface AuthEventSyslog {
  send(fields: AuthEventFields): void;
  dropped(): number;
  close(): Promise<void>;
}

/** The `[log] syslog` receiver of auth events, or undefined when none is configured. */
export function startAuthEventSyslog(
  log: RelayConfig['log'],
  file: string,
  logger: Logger,
): AuthEventSyslog | undefined {
  const target = log.syslog === undefined ? undefined : parseSyslogUrl(log.syslog);
  if (!target) return undefined;
  let ca: Buffer | undefined;
  if (log.syslog_ca_file !== undefined) {
    try {
      ca = readFileSync(log.syslog_ca_file);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(file, [{ path: 'log.syslog_ca_file', message: `cannot read: ${reason}` }]);
    }
  }
  const sink = createSyslogSink({ ...target, ...(ca ? { ca } : {}) }, { maxQueue: log.syslog_queue, logger });
  const origin = { facility: log.syslog_facility, hostname: hostname(), procId: String(process.pid) };
  return {
    send: (fields) => sink.send(authEventMessage(fields, origin, Date.now())),
    dropped: () => sink.dropped(),
    close: () => sink.close(),
  };
}
