import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type AuthDecision, authEventFields, redactPaths, SECRET_KEYS } from '../../local-relay/src/ops/auth-event.ts';

function capture() {
  let buffer = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      buffer += chunk.toString('utf8');
      done();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: [...redactPaths] } }, stream);
  const output = () => buffer;
  const lines = () =>
    buffer
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, output, lines };
}

const decision: AuthDecision = {
  id: '01JABCDEF0123456789',
  time: 1_790_000_000_000,
  mode: 'auto',
  username: 'alice',
  client_ip: '198.51.100.7',
  nas_ip: '127.0.0.1',
  stage: 'auth',
  factor: 'push',
  result: 'allow',
  reason: 'user_approved',
  source: 'duo',
  latency_ms: 1234.6,
  serverSection: 'radius_server_auto',
};

describe('auth event line', () => {
  it('carries the Duo-style fields, with stable keys when optionals are absent', () => {
    expect(authEventFields(decision)).toEqual({
      msg: 'auth_event',
      event_id: '01JABCDEF0123456789',
      mode: 'auto',
      user: 'alice',
      client_ip: '198.51.100.7',
      nas_ip: '127.0.0.1',
      stage: 'auth',
      factor: 'push',
      result: 'allow',
      reason: 'user_approved',
      source: 'duo',
      edge_failure: null,
      latency_ms: 1235,
      server_section: 'radius_server_auto',
    });
    const minimal = authEventFields({
      id: 'd2',
      time: 1_790_000_000_000,
      mode: 'auto',
      username: 'bob',
      nas_ip: '127.0.0.1',
      stage: 'primary',
      result: 'deny',
      reason: 'primary_rejected',
      source: 'primary',
      latency_ms: 3,
    });
    expect(minimal).toMatchObject({ client_ip: null, factor: null, edge_failure: null, server_section: null });
    expect(Object.keys(minimal)).toEqual(Object.keys(authEventFields(decision)));
  });

  it('says why the relay applied the failmode itself', () => {
    const offline = authEventFields({ ...decision, source: 'failmode-relay', edge_failure: 'breaker_open' });
    expect(offline).toMatchObject({ source: 'failmode-relay', edge_failure: 'breaker_open' });
  });

  it('never copies fields it does not know, such as a passcode on the decision', () => {
    const leaky = { ...decision, factor: 'passcode', passcode: '864209', password: 'alice-pass' };
    const fields = authEventFields(leaky);
    expect(JSON.stringify(fields)).not.toMatch(/864209|alice-pass/);
  });

  it('logs as one JSON line with a single msg key', () => {
    const { logger, output, lines } = capture();
    logger.info(authEventFields(decision));
    expect(output().trim().split('\n')).toHaveLength(1);
    expect(output().match(/"msg":/g)).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ msg: 'auth_event', user: 'alice', result: 'allow', latency_ms: 1235 });
  });
});

describe('log redaction', () => {
  it('redacts every secret key at the top level and one level down', () => {
    const { logger, output } = capture();
    const planted = SECRET_KEYS.map((key, i) => [key, `planted-secret-${i}-value`] as const);
    for (const [key, value] of planted) {
      logger.info({ [key]: value }, 'top level');
      logger.warn({ req: { [key]: value, username: 'alice' } }, 'nested');
    }
    const text = output();
    for (const [, value] of planted) expect(text).not.toContain(value);
    expect(text).toContain('[Redacted]');
    expect(text).toContain('"username":"alice"');
  });

  it('keeps the realistic relay log shapes free of passwords, passcodes and secrets', () => {
    const { logger, output } = capture();
    logger.debug({ user: 'alice', password: 'alice-pass', nas: '127.0.0.1' }, 'primary auth');
    logger.info({ request: { username: 'frank', passcode: 'pc735911', factor: 'passcode' } }, 'edge auth');
    logger.info({ client: { name: 'vpn', secret: 'demo-radius-secret' } }, 'client loaded');
    logger.info({ attributes: { 'User-Password': 'carol-pass', 'User-Name': 'carol' } }, 'request');
    logger.info({ headers: { authorization: 'Bearer abc.def' } }, 'edge call');
    logger.info({ ldap: { bind_password: 'svc-pass' } }, 'ldap connect');
    logger.info({ edge: { private_key: 'MC4CAQAwBQYDK2VwBCIEI' } }, 'key loaded');
    logger.child({ secret: 'child-binding-secret' }).info('child logger');
    const text = output();
    for (const value of [
      'alice-pass',
      'pc735911',
      'demo-radius-secret',
      'carol-pass',
      'abc.def',
      'svc-pass',
      'MC4CAQAwBQYDK2VwBCIEI',
      'child-binding-secret',
    ]) {
      expect(text).not.toContain(value);
    }
    expect(text).toContain('"User-Name":"carol"');
  });
});
