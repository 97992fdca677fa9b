import pino, { type DestinationStream, type Logger } from 'pino';
import { redactPaths } from './ops/auth-event.ts';

/**
 * The relay's logger: pino JSON to stdout. Redaction is the last line of defence; the code's first
 * is never to put a secret, password or passcode into a log object at all. The key list lives in
 * ops/auth-event.ts (SECRET_KEYS); the deeper paths below are the config's own secrets.
 */
export const REDACT_PATHS: readonly string[] = [
  ...redactPaths,
  'config.server[*].client[*].secret',
  'config.primary.ldap.service_account_password',
  'config.primary.radius.secret',
];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'duo-relay' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
