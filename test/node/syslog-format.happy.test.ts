import { describe, expect, it } from 'vitest';
import { authEventFields } from '../../local-relay/src/ops/auth-event.ts';
import { authEventMessage } from '../../local-relay/src/ops/syslog/auth-event.ts';
import { escapeParamValue, formatRfc5424, octetCounted } from '../../local-relay/src/ops/syslog/format.ts';

const BOM = '\uFEFF';
const T = Date.UTC(2026, 10, 30, 5, 6, 7, 89);

describe('RFC 5424 formatter: golden vectors', () => {
  it('header, one SD-ELEMENT and a BOM before the UTF-8 MSG', () => {
    expect(
      formatRfc5424({
        facility: 'authpriv',
        severity: 6,
        time: T,
        hostname: 'relay-1.corp.example',
        appName: 'duo-relay',
        procId: '4242',
        msgId: 'auth_event',
        data: { id: 'auth_event@32473', params: { user: 'zoë', latency_ms: 12, client_ip: null } },
        msg: 'zoë logged in',
      }),
    ).toBe(
      `<86>1 2026-11-30T05:06:07.089Z relay-1.corp.example duo-relay 4242 auth_event [auth_event@32473 user="zoë" latency_ms="12"] ${BOM}zoë logged in`,
    );
  });

  it('escapes `"`, `\\` and `]` in PARAM-VALUE, and only those', () => {
    expect(escapeParamValue('a"b\\c]d[e=f')).toBe('a\\"b\\\\c\\]d[e=f');
    const line = formatRfc5424({
      facility: 'user',
      severity: 5,
      time: T,
      hostname: '',
      appName: 'duo-relay',
      procId: '1',
      msgId: 'auth_event',
      data: { id: 'x@32473', params: { reason: 'Primary credentials rejected: "x]"\\' } },
      msg: '',
    });
    expect(line).toBe(
      `<13>1 2026-11-30T05:06:07.089Z - duo-relay 1 auth_event [x@32473 reason="Primary credentials rejected: \\"x\\]\\"\\\\"] ${BOM}`,
    );
  });

  it('header fields keep printable US-ASCII only and their maximum lengths; SD names lose = ] " and space', () => {
    const line = formatRfc5424({
      facility: 'local7',
      severity: 4,
      time: T,
      hostname: 'h ö\nst',
      appName: 'a'.repeat(60),
      procId: '',
      msgId: 'm'.repeat(40),
      data: { id: 'id', params: { 'a b=c]"d': 'v' } },
      msg: 'line1\nline2',
    });
    expect(line).toBe(
      `<188>1 2026-11-30T05:06:07.089Z hst ${'a'.repeat(48)} - ${'m'.repeat(32)} [id a_b_c__d="v"] ${BOM}line1\nline2`,
    );
  });

  it('octet counting counts bytes, not characters', () => {
    expect(octetCounted('zoë').toString('utf8')).toBe('4 zoë');
  });

  it('an auth event carries the JSON log fields, so the same redaction, and no password', () => {
    const fields = authEventFields({
      id: 'ev-1',
      time: T,
      mode: 'auto',
      username: 'alice',
      nas_ip: '192.0.2.1',
      stage: 'auth',
      factor: 'push',
      result: 'deny',
      reason: 'Login request denied.',
      source: 'duo',
      latency_ms: 1234.4,
      ...({ password: 'hunter2', passcode: '123456' } as object),
    } as Parameters<typeof authEventFields>[0]);
    const line = authEventMessage(fields, { facility: 'auth', hostname: 'relay', procId: '7' }, T);
    expect(line).toBe(
      `<37>1 2026-11-30T05:06:07.089Z relay duo-relay 7 auth_event [auth_event@32473 event_id="ev-1" mode="auto" user="alice" nas_ip="192.0.2.1" stage="auth" factor="push" result="deny" reason="Login request denied." source="duo" latency_ms="1234"] ${BOM}${JSON.stringify(fields)}`,
    );
    expect(line).not.toMatch(/hunter2|123456/);
  });
});
