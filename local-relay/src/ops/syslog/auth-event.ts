import type { AuthEventFields } from '../auth-event.ts';
import { type Facility, formatRfc5424, SEVERITY } from './format.ts';

/**
 * One auth event as an RFC 5424 message: the auth_event fields (the same list, so the same
 * redaction, as the JSON line) as structured data and, for receivers that read only MSG, as JSON.
 * The SD-ID carries 32473, the enterprise number RFC 5612 sets aside for documentation and
 * private use.
 */
export const AUTH_EVENT_SD_ID = 'auth_event@32473';

export interface SyslogOrigin {
  facility: Facility;
  hostname: string;
  procId: string;
}

export function authEventMessage(fields: AuthEventFields, origin: SyslogOrigin, now: number): string {
  const { msg, ...params } = fields;
  return formatRfc5424({
    ...origin,
    severity: fields.result === 'deny' ? SEVERITY.notice : SEVERITY.info,
    time: now,
    appName: 'duo-relay',
    msgId: msg,
    data: { id: AUTH_EVENT_SD_ID, params },
    msg: JSON.stringify(fields),
  });
}
