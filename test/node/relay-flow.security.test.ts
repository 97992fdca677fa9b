import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChallengeStore, createFlow } from '../../local-relay/src/flow/index.ts';
import { createLogger } from '../../local-relay/src/log.ts';

describe('challenge store', () => {
  it('is bounded: the oldest pending challenge is dropped first', () => {
    const store = new ChallengeStore({ maxEntries: 2 });
    const entry = (username: string) => ({
      kind: 'passcode' as const,
      username,
      nasIp: '192.0.2.1',
      failOpenAllowed: true,
    });
    const a = store.issue(entry('a'));
    const b = store.issue(entry('b'));
    const c = store.issue(entry('c'));
    expect(store.size).toBe(2);
    expect(store.take(a, { username: 'a', nasIp: '192.0.2.1' })).toBeUndefined();
    expect(store.take(b, { username: 'b', nasIp: '192.0.2.1' })).toMatchObject({ username: 'b' });
    expect(store.take(c, { username: 'c', nasIp: '192.0.2.1' })).toMatchObject({ username: 'c' });
  });

  it('States are 32 random bytes, never repeated', () => {
    const store = new ChallengeStore();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = store.issue({ kind: 'passcode', username: 'u', nasIp: 'n', failOpenAllowed: true });
      expect(s).toHaveLength(32);
      seen.add(Buffer.from(s).toString('hex'));
    }
    expect(seen.size).toBe(200);
  });
});

describe('logging', () => {
  it('a full login logs the decision but never the password or the passcode', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk;
        cb();
      },
    });
    const logger = createLogger('trace', sink);
    const flow = createFlow(
      {
        mode: 'auto',
        exemptUsernames: [],
        clientIpAttr: 'default',
        factors: ['passcode'],
        allowConcat: true,
        delimiter: ',',
        delimitedPasswordLength: 0,
      },
      {
        primary: { kind: 'users_file', authenticate: async () => ({ kind: 'accept' }) },
        edge: {
          preauth: async () => ({
            kind: 'ok',
            value: { result: 'auth', message: 'ok', source: 'duo', devices: [], factors: {} },
          }),
          auth: async () => ({ kind: 'transport', cause: 'timeout' }),
        },
        policy: { failmode: () => 'safe' },
        challenges: new ChallengeStore(),
        logger,
      },
    );
    const first = await flow.handle({
      username: 'alice',
      password: 'S3cret-Pa55word',
      nasIp: '192.0.2.1',
      loginId: 'l1',
    });
    if (first.code !== 'challenge') throw new Error('expected a challenge');
    await flow.handle({ username: 'alice', password: '918273', nasIp: '192.0.2.1', loginId: 'l2', state: first.state });
    logger.info(
      { password: 'S3cret-Pa55word', nested: { passcode: '918273', secret: 'radius-secret' } },
      'redaction check',
    );
    expect(out).toContain('login decision');
    expect(out).toContain('Denied Duo login due to timeout');
    for (const secret of ['S3cret-Pa55word', '918273', 'radius-secret']) expect(out).not.toContain(secret);
  });
});
