import { checkServiceUrl, type ServiceUrlProblem } from '@duo-edge/contract/url';
import { describe, expect, it } from 'vitest';
import { duoBaseUrlSchema } from '../../src/env.ts';

/**
 * "https anywhere, plain http only to this machine": the one rule for the edge's Duo transport
 * override and the relay's edge URLs. Lookalikes of loopback must need https.
 */

const ACCEPTED = [
  'https://edge.example.com',
  'https://duo-proxy.example.com/prefix/',
  'https://203.0.113.7:8443',
  'http://127.0.0.1:8787',
  'http://127.255.255.254',
  'http://127.1:9', // the parser's 127.0.0.1
  'http://0x7f.0.0.1', // the parser's 127.0.0.1
  'http://[::1]:8787',
  'http://[0:0:0:0:0:0:0:1]', // the parser's [::1]
  'http://localhost:8788',
  'http://LOCALHOST',
];

const REFUSED: ReadonlyArray<readonly [string, ServiceUrlProblem]> = [
  ['http://edge.example.com', 'not_https_or_loopback'],
  ['http://10.0.0.1:8787', 'not_https_or_loopback'],
  ['http://128.0.0.1', 'not_https_or_loopback'],
  ['http://0.0.0.0', 'not_https_or_loopback'],
  ['http://[::]', 'not_https_or_loopback'],
  ['http://[::2]', 'not_https_or_loopback'],
  // Lookalikes: loopback at the start of the name, not as the host.
  ['http://127.0.0.1.evil.com', 'not_https_or_loopback'],
  ['http://127.0.0.1.nip.io:8787', 'not_https_or_loopback'],
  ['http://localhost.evil.com', 'not_https_or_loopback'],
  ['http://evil-localhost', 'not_https_or_loopback'],
  ['http://localhost.', 'not_https_or_loopback'],
  ['http://[::ffff:127.0.0.1]', 'not_https_or_loopback'],
  ['http://[::ffff:7f00:1]:8787', 'not_https_or_loopback'],
  // Userinfo: the host is what follows the @.
  ['http://127.0.0.1@evil.com', 'not_https_or_loopback'],
  ['http://localhost:8787@evil.com/', 'not_https_or_loopback'],
  ['http://127.0.0.1%40evil.com', 'not_a_url'], // an escaped @ is no host at all,
  ['http://evil.com@127.0.0.1/', 'credentials_query_or_fragment'],
  ['https://user:secret@edge.example.com', 'credentials_query_or_fragment'],
  ['https://edge.example.com/?site=a', 'credentials_query_or_fragment'],
  ['https://edge.example.com/#x', 'credentials_query_or_fragment'],
  // Other schemes, even to this machine.
  ['ftp://127.0.0.1', 'not_https_or_loopback'],
  ['ws://localhost:8787', 'not_https_or_loopback'],
  ['file:///etc/passwd', 'not_https_or_loopback'],
  ['edge.example.com', 'not_a_url'],
  ['http://', 'not_a_url'],
  ['', 'not_a_url'],
];

describe('service URL rule', () => {
  it.each(ACCEPTED)('accepts %s', (url) => {
    expect(checkServiceUrl(url).ok).toBe(true);
  });

  it.each(REFUSED)('refuses %s (%s)', (url, problem) => {
    expect(checkServiceUrl(url)).toEqual({ ok: false, error: problem });
  });

  it('is the rule of the edge Duo override too', () => {
    for (const url of ACCEPTED) expect(duoBaseUrlSchema.safeParse(url).success, url).toBe(true);
    for (const [url] of REFUSED.filter(([u]) => u !== '')) {
      expect(duoBaseUrlSchema.safeParse(url).success, url).toBe(false);
    }
  });
});
