import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../local-relay/src/config/load.ts';
import { sitesConfigSchema } from '../../src/sites/schema.ts';

// The README's configuration examples are what admins copy: they must load as written.
const readme = await readFile(join(import.meta.dirname, '../../README.md'), 'utf8');
const blocks = (lang: string) =>
  [...readme.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);

describe('README configuration examples', () => {
  let dir: string;
  const toml = blocks('toml');
  const [relayBase, ...primaries] = toml;
  const env = { VPN_RADIUS_SECRET: 'a-long-random-radius-secret' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'readme-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has the relay example and one example per primary (users file, LDAP, upstream RADIUS)', () => {
    expect(relayBase).toContain('[relay]');
    expect(primaries.map((p) => /type = "(\w+)"/.exec(p)?.[1])).toEqual(['users_file', 'ldap', 'radius']);
  });

  it.each(['users_file', 'ldap', 'radius'])('relay.toml with the %s primary loads', async (type) => {
    const primary = primaries.find((p) => p.includes(`type = "${type}"`))!;
    const file = join(dir, `relay-${type}.toml`);
    await writeFile(file, `${relayBase}\n${primary}`);
    // Secret files named in the examples are absolute paths; point them into the temp dir.
    const text = (await readFile(file, 'utf8')).replaceAll('/etc/duo-relay/', `${dir}/`);
    await writeFile(file, text);
    await writeFile(join(dir, 'ldap-service.pass'), 'service-password\n');
    await writeFile(join(dir, 'upstream-radius.secret'), 'upstream-radius-shared-secret\n');
    const loaded = await loadConfig(file, env);
    expect(loaded.config.primary?.type).toBe(type);
    expect(loaded.config.server[0]?.client[0]?.secret).toBe(env.VPN_RADIUS_SECRET);
  });

  it('the sites config example is valid', () => {
    const json = blocks('json').find((b) => b.includes('"integrations"'))!;
    const parsed = sitesConfigSchema.safeParse(
      JSON.parse(json.replace('<40-character Duo secret key>', 'x'.repeat(40))),
    );
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});
