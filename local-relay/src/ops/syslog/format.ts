/**
 * RFC 5424 syslog messages and their framing on the wire: one datagram per message on UDP
 * (RFC 5426), octet counting on TCP and TLS (RFC 6587 §3.4.1, RFC 5425 §4.3), so a message may
 * hold any byte, newlines included.
 */

export const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

export const SEVERITY = { warning: 4, notice: 5, info: 6 } as const;

export interface SyslogMessage {
  facility: Facility;
  severity: number;
  /** Epoch ms; written as an RFC 3339 UTC timestamp with milliseconds. */
  time: number;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** One SD-ELEMENT; params with a null value are left out. */
  data?: { id: string; params: Readonly<Record<string, string | number | null>> };
  /** UTF-8 text, sent after a BOM as RFC 5424 §6.4 asks for UTF-8 MSG. */
  msg: string;
}

const BOM = '\uFEFF';
const NIL = '-';

/** A header field: printable US-ASCII only (RFC 5424 §6), cut to its maximum length, `-` when empty. */
function headerField(value: string, max: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return printable === '' ? NIL : printable;
}

/** SD-NAME: printable US-ASCII except `=`, space, `]`, `"`; at most 32 characters. */
function sdName(value: string): string {
  return value.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
}

/** PARAM-VALUE: UTF-8 with `"`, `\` and `]` escaped by a backslash (RFC 5424 §6.3.3). */
export const escapeParamValue = (value: string): string => value.replace(/["\\\]]/g, (c) => `\\${c}`);

export function formatRfc5424(m: SyslogMessage): string {
  const pri = FACILITIES[m.facility] * 8 + m.severity;
  const header = [
    `<${pri}>1`,
    new Date(m.time).toISOString(),
    headerField(m.hostname, 255),
    headerField(m.appName, 48),
    headerField(m.procId, 128),
    headerField(m.msgId, 32),
  ].join(' ');
  const params = Object.entries(m.data?.params ?? {})
    .filter((e): e is [string, string | number] => e[1] !== null)
    .map(([k, v]) => ` ${sdName(k)}="${escapeParamValue(String(v))}"`)
    .join('');
  const sd = m.data ? `[${sdName(m.data.id)}${params}]` : NIL;
  return `${header} ${sd} ${BOM}${m.msg}`;
}

/** Octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of the UTF-8 message. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
