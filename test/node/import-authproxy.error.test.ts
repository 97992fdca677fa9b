import { describe, expect, it } from 'vitest';
import { convertAuthproxy } from '../../local-relay/src/import/convert.ts';
import { parseIni } from '../../local-relay/src/import/ini.ts';
import { toCidrs } from '../../local-relay/src/import/ip-ranges.ts';

/** What the importer must never do: drop an option silently, or accept what Duo would not. */

const SERVER = `[radius_server_auto]
ikey=DIWJ8X6AEYOR5OMC6TQ1
skey=Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep
api_host=api-xxxxxxxx.duosecurity.com
radius_ip_1=10.0.0.1
radius_secret_1=secret-secret-secret
`;

describe('import-authproxy leftovers', () => {
  it('an option nobody knows, in any section, is reported as unknown with its section', () => {
    const r = convertAuthproxy(
      `[main]\nfrobnicate=1\n[ad_client]\nhost=dc\nsearch_dn=DC=x\nservice_account_username=u\nservice_account_password=p\nsearch_db=typo\n${SERVER}radius_sekret_2=x\n`,
    );
    expect(r.notes.filter((n) => n.kind === 'unknown').map((n) => `${n.section} ${n.key}`)).toEqual([
      'main frobnicate',
      'ad_client search_db',
      'radius_server_auto radius_sekret_2',
    ]);
  });

  it('a server section without any client section is not carried over, and says why', () => {
    const r = convertAuthproxy(SERVER);
    expect(r.relay.server).toEqual([]);
    expect(r.notes).toContainEqual(
      expect.objectContaining({ kind: 'unsupported', section: 'radius_server_auto', key: 'client' }),
    );
  });

  it('client= naming a missing section is reported', () => {
    const r = convertAuthproxy(`${SERVER}client=ad_client9\n`);
    expect(r.notes).toContainEqual(
      expect.objectContaining({
        section: 'radius_server_auto',
        key: 'client',
        reason: expect.stringContaining('ad_client9'),
      }),
    );
  });

  it('a secret without its address, and an address Duo would not parse, are reported', () => {
    const r = convertAuthproxy(
      `[duo_only_client]\n${SERVER}client=duo_only_client\nradius_secret_3=orphan\nradius_ip_4=not-an-ip\nradius_secret_4=x\n`,
    );
    const keys = r.notes.filter((n) => n.kind === 'unsupported').map((n) => n.key);
    expect(keys).toEqual(expect.arrayContaining(['radius_secret_3', 'radius_ip_4']));
  });

  it('exempt users are only the consecutive ones from 1, as Duo reads them', () => {
    const r = convertAuthproxy(
      `[duo_only_client]\n[radius_client]\nhost=1.2.3.4\nsecret=s\n${SERVER}client=radius_client\nexempt_username_1=a\nexempt_username_2=b\nexempt_username_4=d\nexempt_username_0=z\n`,
    );
    expect((r.relay.server as Array<Record<string, unknown>>)[0]?.exempt_usernames).toEqual(['a', 'b']);
    expect(r.notes.filter((n) => n.key?.startsWith('exempt_username_')).map((n) => n.key)).toEqual([
      'exempt_username_0',
      'exempt_username_4',
    ]);
  });

  it('pass-through on a server whose primary is not RADIUS is refused, as Duo refuses it', () => {
    const r = convertAuthproxy(
      `[ad_client]\nhost=dc\nsearch_dn=DC=x\nservice_account_username=u\nservice_account_password=p\nauth_type=plain\ntransport=ldaps\n${SERVER}pass_through_all=true\n`,
    );
    expect(r.notes).toContainEqual(expect.objectContaining({ kind: 'unsupported', key: 'pass_through_attr_names' }));
  });

  it('the misspelt delimeter is read as Duo reads it', () => {
    const r = convertAuthproxy(`[radius_client]\nhost=h\nsecret=s\n${SERVER}delimeter=#\n`);
    expect((r.relay.server as Array<Record<string, unknown>>)[0]?.delimiter).toBe('#');
    expect(r.notes.filter((n) => n.kind === 'unknown')).toEqual([]);
  });
});

describe('authproxy.cfg syntax', () => {
  it('reports lines it cannot read instead of guessing', () => {
    const ini = parseIni('orphan=1\n[main]\njust text\n[main]\n; comment\n# comment\nkey: value\n  continued\n');
    expect(ini.problems.map((p) => p.line)).toEqual([1, 3, 4]);
    expect(ini.sections[1]?.values.get('key')).toBe('value\ncontinued');
  });

  it('radius_ip forms: address, CIDR, netmask, range; anything else is refused', () => {
    expect(toCidrs('10.0.0.1')).toEqual(['10.0.0.1']);
    expect(toCidrs('10.0.0.0/8')).toEqual(['10.0.0.0/8']);
    expect(toCidrs('10.1.0.0/255.255.252.0')).toEqual(['10.1.0.0/22']);
    expect(toCidrs('192.168.1.0-192.168.1.255')).toEqual(['192.168.1.0/24']);
    expect(toCidrs('10.0.0.255-10.0.1.0')).toEqual(['10.0.0.255', '10.0.1.0']);
    expect(toCidrs('2001:db8::/32')).toEqual(['2001:db8::/32']);
    expect(toCidrs('10.0.0.9-10.0.0.1')).toBeUndefined();
    expect(toCidrs('10.0.0.0/255.0.255.0')).toBeUndefined();
    expect(toCidrs('vpn.example.com')).toBeUndefined();
  });
});
