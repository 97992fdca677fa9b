import type { FlowOptions } from '../flow/index.ts';
import { parseListen } from './addresses.ts';
import type { ServerConfig } from './schema.ts';

/** A `[[server]]` section in the flows' terms. */
export function flowOptionsOf(s: ServerConfig): FlowOptions {
  const common = { exemptUsernames: s.exempt_usernames, clientIpAttr: s.client_ip_attr };
  switch (s.mode) {
    case 'auto':
      return {
        mode: 'auto',
        ...common,
        factors: s.factors,
        allowConcat: s.allow_concat,
        delimiter: s.delimiter,
        delimitedPasswordLength: s.delimited_password_length,
      };
    case 'challenge':
      return { mode: 'challenge', ...common, promptFormat: s.prompt_format, enrollChallenge: s.enroll_challenge };
    case 'concat':
      return {
        mode: 'concat',
        ...common,
        delimiter: s.delimiter,
        delimitedPasswordLength: s.delimited_password_length,
      };
    case 'duo_only':
      return { mode: 'duo_only', ...common, failOpenAcknowledged: s.duo_only_failopen_acknowledged };
  }
}

export const listenAddresses = (s: ServerConfig): Array<{ host: string; port: number }> =>
  s.listen.map((l) => parseListen(l)!);
