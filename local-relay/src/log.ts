import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The relay's logger: pino JSON to stdout. Redaction is the last line of defence; the code's first
 * is never to put a secret, password or passcode into a log object at all.
 */
export const REDACT_PATHS = [
  'password',
  'passcode',
  'secret',
  'privateKey',
  'private_key',
  'service_account_password',
  '*.password',
  '*.passcode',
  '*.secret',
  '*.privateKey',
  '*.service_account_password',
  'req.password',
  'config.server[*].client[*].secret',
  'config.primary.ldap.service_account_password',
];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'duo-relay' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
