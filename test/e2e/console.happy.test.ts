import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import { artifactsDir, launchChromium, type RunningBrowser } from '../support/browser.ts';
import { TEST_ADMIN_TOKEN } from '../support/edge-bindings.ts';
import { radclient } from '../support/radclient.ts';
import {
  type DuoAndEdge,
  freeUdpPort,
  STACK_RADIUS_SECRET,
  stackDir,
  startDuoAndEdge,
  startRelayInProcess,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * The admin console in chromium against the real worker (workerd), a real relay and the Duo
 * emulator: sign-in, relays by name, decisions after real RADIUS logins, and the primary-only
 * override changing a real login's outcome. Screenshots go to test-artifacts/console/.
 */

let stack: DuoAndEdge;
let relay: RelayRuntime;
let dir: string;
let radiusPort: number;
let chromium: RunningBrowser;
let page: Page;
let shots: string;

const login = (user: string, password: string) =>
  radclient({
    port: radiusPort,
    secret: STACK_RADIUS_SECRET,
    timeoutS: 10,
    attributes: [`User-Name = "${user}"`, `User-Password = "${password}"`],
  });

const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

beforeAll(async () => {
  stack = await startDuoAndEdge();
  dir = await stackDir('console-e2e');
  radiusPort = await freeUdpPort();
  const file = await writeRelayConfig(dir, {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    radiusPort,
    preauthTimeoutMs: 5_000,
    authTimeoutMs: 10_000,
  });
  relay = await startRelayInProcess(file);
  chromium = await launchChromium();
  page = await chromium.context.newPage();
  shots = await artifactsDir('console');
});

afterAll(async () => {
  await chromium?.close();
  await relay?.stop(0);
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the admin console', () => {
  it('refuses a wrong token and signs in with the right one', async () => {
    await page.goto(`${stack.edgeUrl}/admin/`);
    expect(new URL(page.url()).pathname).toBe('/admin/signin');
    await shot('signin');
    await page.fill('input[name=token]', 'not-the-admin-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('Wrong token');
    await page.fill('input[name=token]', TEST_ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${stack.edgeUrl}/admin/`);
    const cookie = (await chromium.context.cookies()).find((c) => c.name === 'duo_edge_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
  });

  it('shows the relay by the name of its key after its heartbeat', async () => {
    expect(await relay.heartbeat()).toBe(true);
    await page.goto(`${stack.edgeUrl}/admin/`);
    const row = page.locator('table.relays tbody tr', { hasText: 'relay-a1' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('alive');
  });

  it('lists real RADIUS logins on the decisions page, filterable by user', async () => {
    expect((await login('alice', 'alice-pass')).code).toBe('Access-Accept');
    expect((await login('bob', 'bob-pass')).code).toBe('Access-Reject');
    await page.goto(`${stack.edgeUrl}/admin/decisions`);
    const rows = page.locator('table.decisions tbody tr');
    await expect.poll(async () => (await rows.allTextContents()).join('\n')).toMatch(/alice[\s\S]*allow/);
    expect((await rows.allTextContents()).join('\n')).toMatch(/bob/);
    await shot('decisions');
    await page.goto(`${stack.edgeUrl}/admin/decisions?user=bob`);
    const bobRows = await page.locator('table.decisions tbody tr').allTextContents();
    expect(bobRows.length).toBeGreaterThan(0);
    expect(bobRows.every((r) => r.includes('bob') && r.includes('deny'))).toBe(true);
    const csv = await page.request.get(`${stack.edgeUrl}/admin/decisions.csv?user=alice`);
    expect(csv.headers()['content-type']).toContain('text/csv');
    expect(await csv.text()).toMatch(/^id,time,site,relay,username/);
  });

  it('a primary-only override set on the site page lets bob in without Duo, not a wrong password', async () => {
    await page.goto(`${stack.edgeUrl}/admin/sites/site-a`);
    await page.fill('input[name=minutes]', '15');
    await page.fill('input[name=reason]', 'Duo push outage INC-7');
    await page.click('form.override button[type=submit]');
    await page.waitForURL(`${stack.edgeUrl}/admin/sites/site-a`);
    expect(await page.textContent('.override-on')).toContain('Duo push outage INC-7');
    await shot('site-override');

    const bob = await login('bob', 'bob-pass');
    expect(bob.code).toBe('Access-Accept');
    expect(bob.attributes).toContainEqual({ name: 'Reply-Message', value: REPLY.override });
    expect((await login('bob', 'wrong-pass')).code).toBe('Access-Reject');
    const [latest] = await stack.decisions({ user: 'bob', source: 'override' });
    expect(latest?.reason).toContain('Duo push outage INC-7');

    await page.goto(`${stack.edgeUrl}/admin/`);
    expect(await page.textContent('table.sites')).toContain('Primary only');
    await shot('overview');

    await page.goto(`${stack.edgeUrl}/admin/sites/site-a`);
    await page.click('button.danger');
    await page.waitForURL(`${stack.edgeUrl}/admin/sites/site-a`);
    expect(await page.locator('.override-on').count()).toBe(0);
    expect(await page.textContent('table.history')).toMatch(/override_clear[\s\S]*override_set/);
    expect((await login('bob', 'bob-pass')).code).toBe('Access-Reject');
  });

  it('refuses a cross-origin POST and sends the CSP and framing headers', async () => {
    const cookies = await chromium.context.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const forged = await fetch(`${stack.edgeUrl}/admin/sites/site-a/override`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'mode=primary_only&minutes=60&reason=csrf',
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    expect(await stack.decisions({ source: 'override', user: 'nobody' })).toEqual([]);
    const res = await page.goto(`${stack.edgeUrl}/admin/sites/site-a`);
    expect(await page.locator('.override-on').count()).toBe(0);
    const headers = res!.headers();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).not.toMatch(/script-src|unsafe-inline/);
    expect(headers['cache-control']).toBe('no-store');
    expect(await page.locator('script').count()).toBe(0);
  });
});
