import { assertNever } from '@duo-edge/contract/result';
import type { Logger } from 'pino';
import { newRequestAuthenticator } from '../radius/authenticator.ts';
import { Attr, Code } from '../radius/dictionary.ts';
import {
  type DecodedPacket,
  getAttributes,
  messageAuthenticatorOffset,
  type RadiusAttribute,
} from '../radius/packet.ts';
import { hidePassword } from '../radius/password.ts';
import { decodeText, ipv4Attribute, textAttribute } from '../radius/values.ts';
import type { RadiusRawRequest } from '../server/types.ts';
import { msChapReplyAttributes, msChapV2RequestAttributes } from './radius-mschap.ts';
import { selectPassThrough, selectRequestPassThrough } from './radius-pass-through.ts';
import { type ExchangeResult, RadiusTransport } from './radius-transport.ts';
import { type RadiusEndpoint, type RadiusUpstreamConfig, radiusEndpoints } from './radius-upstream-config.ts';
import type { PrimaryAuthenticator, PrimaryOutcome, PrimaryRequest, RawAttribute } from './types.ts';

export {
  type RadiusUpstreamConfig,
  type RadiusUpstreamConfigInput,
  radiusUpstreamConfigSchema,
} from './radius-upstream-config.ts';

/**
 * Upstream RADIUS primary authentication (Duo's `[radius_client]`): the NAS's PAP password is
 * re-hidden with the upstream secret in a fresh Access-Request (new Identifier, CSPRNG
 * authenticator, Message-Authenticator first), or its MS-CHAPv2 attributes are proxied as they
 * are. Only an authentic Access-Accept / Access-Reject / Access-Challenge answers it (Response
 * Authenticator and, by default, Message-Authenticator verified in constant time); a challenge is
 * continued by the next request of the login (`continuation`).
 */

export interface RadiusUpstreamDeps {
  logger: Logger;
}

/** Per-host Status-Server result, for the connectivity tool. */
export interface RadiusHostCheck {
  host: string;
  port: number;
  ok: boolean;
  detail: string;
  rttMs?: number;
}

export type RadiusUpstreamPrimary = PrimaryAuthenticator & {
  readonly kind: 'radius';
  checkHosts(signal?: AbortSignal): Promise<RadiusHostCheck[]>;
};

/**
 * A reject with reply attributes for the NAS (MS-CHAP-Error tells an MS-CHAPv2 client why). It is
 * assignable to PrimaryOutcome; the flow reads `attributes` once the reject variant carries them.
 */
export interface UpstreamReject {
  kind: 'reject';
  reason: string;
  attributes?: ReadonlyArray<RawAttribute>;
}

export const TIMEOUT_DETAIL = 'RADIUS auth request timed out';

/** NAS attributes of the original request that upstream policies commonly match on. */
const COPIED_NAS_ATTRIBUTES = new Set<number>([
  Attr.NasIpAddress,
  Attr.NasPort,
  Attr.ServiceType,
  7, // Framed-Protocol
  Attr.CalledStationId,
  Attr.CallingStationId,
  Attr.NasIdentifier,
  Attr.NasPortType,
  87, // NAS-Port-Id
  95, // NAS-IPv6-Address
]);
const NAS_IPV6_ADDRESS = 95;
/** Besides Reply-Message, State and Proxy-State, what an Access-Challenge may carry (RFC 2865 §4.4). */
const CHALLENGE_CARRIES = new Set<number>([Attr.VendorSpecific, Attr.SessionTimeout, Attr.IdleTimeout]);
const FALLBACK_NAS_IDENTIFIER = 'duo-relay';

export function createRadiusUpstreamPrimary(
  config: RadiusUpstreamConfig,
  deps: RadiusUpstreamDeps,
): RadiusUpstreamPrimary {
  const logger = deps.logger.child({ component: 'primary-radius' });
  const secret = new TextEncoder().encode(config.secret);
  if (secret.length <= 12) {
    // draft-ietf-radext-deprecating-radius: implementations MUST warn about secrets this short.
    logger.warn('upstream RADIUS secret is 12 octets or shorter: use at least 24 random octets');
  }
  const endpoints = radiusEndpoints(config);
  const transport = new RadiusTransport({
    secret,
    retries: config.retries,
    retryWaitMs: config.retry_wait_ms,
    requireMessageAuthenticator: config.require_message_authenticator,
    logger,
  });
  const policy = { selectors: config.pass_through_attr_names, all: config.pass_through_all };

  async function authenticate(req: PrimaryRequest, signal?: AbortSignal): Promise<PrimaryOutcome> {
    const log = logger.child({ username: req.username, clientIp: req.clientIp });
    const raw = rawRequest(req.raw);
    const authenticator = newRequestAuthenticator();
    const attributes: RadiusAttribute[] = [textAttribute(Attr.UserName, req.username)];
    let method: 'pap' | 'mschapv2';
    if (req.password !== undefined) {
      const hidden = hidePassword(req.password, secret, authenticator);
      if (!hidden.ok) return { kind: 'reject', reason: 'password too long to forward over RADIUS' };
      attributes.push({ type: Attr.UserPassword, value: hidden.value });
      method = 'pap';
    } else {
      const msChap = raw && msChapV2RequestAttributes(raw.packet.attributes);
      if (!msChap) return { kind: 'reject', reason: 'no password or MS-CHAPv2 attributes provided' };
      attributes.push(...msChap);
      method = 'mschapv2';
    }
    attributes.push(...nasAttributes(config, raw?.packet));
    attributes.push(...selectRequestPassThrough(raw?.packet.attributes ?? [], policy.selectors, attributes));
    // An answer to the upstream's challenge goes back with its State, and only to the server that
    // asked (RFC 2865 §5.24: State means something to that server alone).
    const { continuation } = req;
    let targets = endpoints;
    if (continuation) {
      const asked = endpoints.find((e) => e.host === continuation.host && e.port === continuation.port);
      if (!asked) return { kind: 'error', detail: 'the challenging RADIUS server is no longer configured' };
      targets = [asked];
      if (continuation.state) attributes.push({ type: Attr.State, value: continuation.state });
    }

    const result = await transport.exchange(
      targets,
      {
        code: Code.AccessRequest,
        authenticator,
        attributes,
        replyCodes: [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge],
      },
      signal,
    );
    const outcome = toOutcome(result, { secret, authenticator }, raw, method);
    const fields = {
      method,
      outcome: outcome.kind,
      answersChallenge: continuation !== undefined,
      ...('from' in result ? { upstream: describe(result.from) } : {}),
    };
    if (outcome.kind === 'error') log.warn({ ...fields, detail: outcome.detail }, 'upstream RADIUS primary failed');
    else if (outcome.kind === 'reject') log.info({ ...fields, reason: outcome.reason }, 'upstream RADIUS rejected');
    else if (outcome.kind === 'challenge') log.info(fields, 'upstream RADIUS challenged');
    else log.debug(fields, 'upstream RADIUS accepted');
    return outcome;
  }

  function toOutcome(
    result: ExchangeResult,
    upstream: { secret: Uint8Array; authenticator: Uint8Array },
    raw: RadiusRawRequest | undefined,
    method: 'pap' | 'mschapv2',
  ): PrimaryOutcome {
    switch (result.kind) {
      case 'timeout':
        return { kind: 'error', detail: TIMEOUT_DETAIL };
      case 'aborted':
        return { kind: 'error', detail: 'RADIUS auth request aborted' };
      case 'encode_error':
        return { kind: 'error', detail: `request does not fit a RADIUS packet (${result.error.reason})` };
      case 'unexpected_code':
        return { kind: 'error', detail: `unexpected RADIUS reply code ${result.code} from upstream` };
      case 'reply':
        break;
      default:
        return assertNever(result);
    }
    const reply = result.packet;
    if (reply.code === Code.AccessChallenge) return challengeOutcome(reply, result.from, method);
    const nasHop = raw ? { secret: raw.secret, authenticator: raw.packet.authenticator } : undefined;
    const msChap = msChapReplyAttributes(reply.attributes, upstream, nasHop);
    if (!msChap.ok) {
      logger.warn({ error: msChap.error, method }, 'MPPE key from upstream could not be re-encrypted for the NAS');
      return { kind: 'error', detail: 'invalid MPPE key in upstream reply' };
    }
    if (reply.code === Code.AccessReject) {
      const message = getAttributes(reply, Attr.ReplyMessage).map(decodeText).join('');
      const rejected: UpstreamReject = {
        kind: 'reject',
        reason: message ? `upstream rejected: ${message}` : 'upstream rejected',
      };
      if (msChap.value.length > 0) rejected.attributes = msChap.value;
      return rejected;
    }
    return { kind: 'accept', attributes: [...msChap.value, ...selectPassThrough(reply.attributes, policy)] };
  }

  /**
   * The upstream asks the user something (RSA next token code, an NPS prompt). Its State stays
   * here; the NAS gets the question, Prompt, and the named pass-through attributes that RFC 2865
   * §4.4 lets an Access-Challenge carry. An MS-CHAPv2 login cannot answer one (the answer would be
   * typed, and the final Accept must carry MS-CHAP2-Success for the first request): it fails closed.
   */
  function challengeOutcome(reply: DecodedPacket, from: RadiusEndpoint, method: 'pap' | 'mschapv2'): PrimaryOutcome {
    if (method === 'mschapv2') {
      return { kind: 'error', detail: 'upstream Access-Challenge to an MS-CHAPv2 request cannot be relayed' };
    }
    const state = getAttributes(reply, Attr.State)[0];
    const prompt = getAttributes(reply, Attr.Prompt)[0];
    const attributes = [
      ...(prompt ? [{ type: Attr.Prompt, value: prompt }] : []),
      ...selectPassThrough(reply.attributes, policy).filter((a) => CHALLENGE_CARRIES.has(a.type)),
    ];
    return {
      kind: 'challenge',
      replyMessage: getAttributes(reply, Attr.ReplyMessage).map(decodeText).join(''),
      continuation: { host: from.host, port: from.port, ...(state ? { state } : {}) },
      ...(attributes.length > 0 ? { attributes } : {}),
    };
  }

  async function checkHost(endpoint: RadiusEndpoint, signal?: AbortSignal): Promise<RadiusHostCheck> {
    const started = performance.now();
    // RFC 5997: Status-Server with Message-Authenticator (added by the transport), answered by an Access-Accept.
    const result = await transport.exchange(
      [endpoint],
      {
        code: Code.StatusServer,
        authenticator: newRequestAuthenticator(),
        attributes: nasAttributes(config, undefined),
        replyCodes: [Code.AccessAccept, Code.AccessReject],
        // RFC 5997 §3: the reply MAY carry a Message-Authenticator (FreeRADIUS 3.2 sends none); the
        // Response Authenticator still proves the shared secret, and a present MAC is still checked.
        requireMessageAuthenticator: false,
      },
      signal,
    );
    const base = { host: endpoint.host, port: endpoint.port };
    switch (result.kind) {
      case 'reply': {
        const signed = messageAuthenticatorOffset(result.packet.bytes) >= 0;
        return {
          ...base,
          ok: true,
          detail: signed ? 'answered Status-Server' : 'answered Status-Server (reply without Message-Authenticator)',
          rttMs: Math.round(performance.now() - started),
        };
      }
      case 'unexpected_code':
        return { ...base, ok: false, detail: `answered Status-Server with code ${result.code}` };
      case 'timeout':
        return { ...base, ok: false, detail: 'no authentic answer to Status-Server (down, blocked, or wrong secret)' };
      case 'aborted':
        return { ...base, ok: false, detail: 'check aborted' };
      case 'encode_error':
        return { ...base, ok: false, detail: `cannot encode Status-Server (${result.error.reason})` };
      default:
        return assertNever(result);
    }
  }

  async function checkHosts(signal?: AbortSignal): Promise<RadiusHostCheck[]> {
    return Promise.all(endpoints.map((e) => checkHost(e, signal)));
  }

  return {
    kind: 'radius',
    authenticate,
    checkHosts,
    async check(signal) {
      const hosts = await checkHosts(signal);
      return {
        ok: hosts.every((h) => h.ok),
        detail: hosts.map((h) => `${describe(h)}: ${h.ok ? `ok (${h.rttMs} ms)` : h.detail}`).join('; '),
      };
    },
    close: () => transport.close(),
  };
}

/**
 * NAS-identifying attributes for the upstream request: the NAS's own, with `nas_ip` /
 * `nas_identifier` replacing them when configured. RFC 2865 §4.1 requires NAS-IP-Address or
 * NAS-Identifier, hence the fallback identifier.
 */
function nasAttributes(
  config: Pick<RadiusUpstreamConfig, 'nas_ip' | 'nas_identifier'>,
  nasRequest: DecodedPacket | undefined,
): RadiusAttribute[] {
  const out = (nasRequest?.attributes ?? []).filter((a) => {
    if (!COPIED_NAS_ATTRIBUTES.has(a.type)) return false;
    if (config.nas_ip !== undefined && (a.type === Attr.NasIpAddress || a.type === NAS_IPV6_ADDRESS)) return false;
    return !(config.nas_identifier !== undefined && a.type === Attr.NasIdentifier);
  });
  if (config.nas_ip !== undefined) out.push(nasIpAttribute(config.nas_ip));
  if (config.nas_identifier !== undefined) out.push(textAttribute(Attr.NasIdentifier, config.nas_identifier));
  if (!out.some((a) => a.type === Attr.NasIpAddress || a.type === NAS_IPV6_ADDRESS || a.type === Attr.NasIdentifier)) {
    out.push(textAttribute(Attr.NasIdentifier, FALLBACK_NAS_IDENTIFIER));
  }
  return out;
}

function nasIpAttribute(ip: string): RadiusAttribute {
  const v4 = ipv4Attribute(Attr.NasIpAddress, ip);
  if (v4) return v4;
  return { type: NAS_IPV6_ADDRESS, value: ipv6Bytes(ip) };
}

/** The schema only lets valid IPv6 text through here; URL parsing folds a dotted IPv4 tail into hex. */
function ipv6Bytes(ip: string): Uint8Array {
  const normalized = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head = '', tail = ''] = normalized.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = groups(normalized.includes('::') ? tail : '');
  const words = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    const n = Number.parseInt(w, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

/** `raw` as the relay's server sets it (see RadiusRawRequest); anything else is ignored. */
function rawRequest(raw: unknown): RadiusRawRequest | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Partial<RadiusRawRequest>;
  if (!(r.secret instanceof Uint8Array) || !r.packet) return undefined;
  if (!(r.packet.authenticator instanceof Uint8Array) || !Array.isArray(r.packet.attributes)) return undefined;
  return r as RadiusRawRequest;
}

function describe(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
