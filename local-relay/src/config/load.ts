import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError, formatPath } from './errors.ts';
import { type RelayConfig, relayConfigSchema } from './schema.ts';

export interface LoadedConfig {
  file: string;
  config: RelayConfig;
  /** Not fatal, but worth a log line at startup (never containing a secret). */
  warnings: string[];
}

const MIN_SECRET_BYTES = 16;

/** Reads, parses and validates relay.toml. Relative paths in it are relative to the file. */
export async function loadConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LoadedConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      { path: '', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? error}` },
    ]);
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split('\n')[0] ?? 'invalid TOML';
      throw new ConfigError(path, [{ path: '', message: `line ${error.line}, column ${error.column}: ${firstLine}` }]);
    }
    throw error;
  }
  const baseDir = dirname(path);
  const parsed = await relayConfigSchema({ baseDir, env }).safeParseAsync(data);
  if (!parsed.success) {
    throw new ConfigError(
      path,
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  }
  const config = absolutePaths(parsed.data, baseDir);
  return { file: path, config, warnings: warnings(config) };
}

function absolutePaths(c: RelayConfig, baseDir: string): RelayConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const relay = { ...c.relay, key_file: abs(c.relay.key_file), state_dir: abs(c.relay.state_dir) };
  let primary = c.primary;
  if (primary?.type === 'users_file') primary = { ...primary, path: abs(primary.path) };
  if (primary?.type === 'ldap' && primary.ldap.ca_file !== undefined) {
    primary = { ...primary, ldap: { ...primary.ldap, ca_file: abs(primary.ldap.ca_file) } };
  }
  const log = c.log.syslog_ca_file === undefined ? c.log : { ...c.log, syslog_ca_file: abs(c.log.syslog_ca_file) };
  return { ...c, relay, log, ...(primary ? { primary } : {}) };
}

function warnings(c: RelayConfig): string[] {
  const out: string[] = [];
  c.server.forEach((s, i) => {
    s.client.forEach((client, j) => {
      if (Buffer.byteLength(client.secret, 'utf8') < MIN_SECRET_BYTES) {
        out.push(
          `server[${i}].client[${j}].secret is shorter than ${MIN_SECRET_BYTES} bytes: use a long random secret`,
        );
      }
      if (!client.require_message_authenticator) {
        out.push(`server[${i}].client[${j}] does not require Message-Authenticator (BlastRADIUS, CVE-2024-3596)`);
      }
    });
  });
  return out;
}
