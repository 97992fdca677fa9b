import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, runDuoRelay, type StackProcess, spawnLocalStack } from '../support/local-stack/child.ts';
import { radclient } from '../support/radclient.ts';

/**
 * `npm start` (test/support/local-stack/main.ts) as a person runs it: one child process, then the
 * README's demo users through `duo-relay test-auth` and radclient.
 */

let stack: StackProcess;
let server: string;

beforeAll(async () => {
  stack = await spawnLocalStack();
  server = `127.0.0.1:${stack.ports.radius}`;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const testAuth = (args: string[], input = '') => runDuoRelay(['test-auth', ...args, '--server', server], input);

describe('npm start', () => {
  it('prints a banner with ready-to-paste test-auth, radclient and radtest lines and the emulator page', () => {
    const out = stack.output();
    expect(out).toContain(`test-auth alice alice-pass --server ${server}`);
    expect(out).toContain(
      `echo 'User-Name=alice,User-Password=alice-pass,Message-Authenticator=0x00' | radclient -x ${server} auth demo-radius-secret`,
    );
    expect(out).toContain(`radtest alice alice-pass ${server} 0 demo-radius-secret`);
    expect(out).toContain(`http://127.0.0.1:${stack.ports.emulator}/`);
    expect(out).not.toContain('WARNING');
  });

  it('prints the admin console URL and a local admin token that signs in', async () => {
    const edge = `http://127.0.0.1:${stack.ports.edge}`;
    const line = stack.output().match(/Admin console +(\S+) +\(admin token: (\S+)\)/);
    expect(line?.[1]).toBe(`${edge}/admin/`);
    const res = await fetch(`${edge}/admin/signin`, {
      method: 'POST',
      headers: { origin: edge, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: line?.[2] ?? '' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/');
  });

  it('serves every demo user as the README says', async () => {
    const [alice, bob, carol, dave, erin, frank, grace] = await Promise.all([
      testAuth(['alice', 'alice-pass']),
      testAuth(['bob', 'bob-pass']),
      testAuth(['carol', 'carol-pass']),
      testAuth(['dave', 'dave-pass']),
      testAuth(['erin', 'erin-pass']),
      testAuth(['frank', 'frank-pass'], '123456\n'),
      testAuth(['grace', 'grace-pass']),
    ]);
    expect(alice).toMatchObject({ code: 0 });
    expect(alice!.stdout).toMatch(/Received Access-Accept.*\n {2}Reply-Message: Success\. Logging you in\.\.\./);
    expect(bob).toMatchObject({ code: 1 });
    expect(bob!.stdout).toMatch(/Received Access-Reject.*\n {2}Reply-Message: Login request denied\./);
    expect(carol).toMatchObject({ code: 0 });
    expect(carol!.stdout).toMatch(/Received Access-Accept.*\n {2}Reply-Message: Allowing user in bypass mode/);
    expect(dave).toMatchObject({ code: 1 });
    expect(dave!.stdout).toMatch(/Received Access-Reject.*\n {2}Reply-Message: Your account is locked out/);
    expect(erin).toMatchObject({ code: 1 });
    expect(erin!.stdout).toMatch(
      /Received Access-Reject.*\n {2}Reply-Message: Enroll an authentication device to proceed/,
    );
    expect(frank).toMatchObject({ code: 0 });
    expect(frank!.stdout).toMatch(
      /Received Access-Challenge.*\n {2}Reply-Message: Enter passcode:\n.*\(challenge answer\).*\nReceived Access-Accept/,
    );
    expect(grace).toMatchObject({ code: 1 });
    expect(grace!.stdout).toMatch(/Received Access-Reject.*\n {2}Reply-Message: Login request timed out\./);
  });

  it('a wrong passcode for frank and a wrong password are rejected', async () => {
    const [frank, mallory] = await Promise.all([
      testAuth(['frank', 'frank-pass'], '000000\n'),
      testAuth(['alice', 'not-alice-pass']),
    ]);
    expect(frank.code).toBe(1);
    expect(mallory.code).toBe(1);
  });

  it('answers radclient and radtest as printed in the banner, Message-Authenticator first', async () => {
    const reply = await radclient({
      port: stack.ports.radius,
      secret: 'demo-radius-secret',
      attributes: ['User-Name = "alice"', 'User-Password = "alice-pass"'],
      timeoutS: 20,
    });
    expect(reply.code).toBe('Access-Accept');
    expect(reply.attributes[0]?.name).toBe('Message-Authenticator');
    const radtest = await promisify(execFile)('radtest', ['alice', 'alice-pass', server, '0', 'demo-radius-secret'], {
      timeout: 30_000,
    });
    expect(radtest.stdout).toMatch(/Received Access-Accept/);
  });

  it('drops a request without Message-Authenticator (no reply)', async () => {
    const reply = await radclient({
      port: stack.ports.radius,
      secret: 'demo-radius-secret',
      attributes: ['User-Name = "alice"', 'User-Password = "alice-pass"'],
      messageAuthenticator: false,
      timeoutS: 1,
    });
    expect(reply.code).toBeUndefined();
  });

  it('stops cleanly on SIGTERM: exit 0, every port released', async () => {
    expect(await stack.stop('SIGTERM')).toBe(0);
    const udp = await freeUdpPort();
    expect(udp).toBeGreaterThan(0);
    for (const port of [stack.ports.emulator, stack.ports.edge, stack.ports.metrics]) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = createConnection({ port, host: '127.0.0.1' });
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    }
    const rebind = await import('node:dgram').then(
      ({ createSocket }) =>
        new Promise<boolean>((resolve) => {
          const s = createSocket('udp4');
          s.once('error', () => resolve(false));
          s.bind(stack.ports.radius, '127.0.0.1', () => s.close(() => resolve(true)));
        }),
    );
    expect(rebind).toBe(true);
  });
});
