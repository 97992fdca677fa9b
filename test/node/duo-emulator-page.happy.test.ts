import { describe, expect, it } from 'vitest';
import { createEmulator } from '../support/duo-emulator/index.ts';

/** The approval page of `npm start` (http://127.0.0.1:8788/): served, locked down, wired to the API. */

describe('emulator approval page', () => {
  it('serves the page with a strict CSP and the demo devices, no request data in the HTML', async () => {
    const { app, state } = createEmulator({ autoAnswerPushes: false });
    state.transactions.open('<img src=x onerror=alert(1)>', 'push');
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<title>Duo emulator · pending pushes</title>');
    expect(html).toContain("Alice's phone · iOS (XXX-XXX-0001)");
    expect(html).toContain('"auto":false');
    expect(html).not.toContain('onerror');
    state.close();
  });

  it('the buttons post to the pushes API, which answers the pending push', async () => {
    const { app, state } = createEmulator({ autoAnswerPushes: false });
    const tx = state.transactions.open('alice', 'push');
    const html = await (await app.request('/')).text();
    expect(html).toContain("'/_emulator/pushes/' + encodeURIComponent(p.txid) + '/' + answer");
    const listed = (await (await app.request('/_emulator/pushes')).json()) as Array<{ txid: string }>;
    expect(listed.map((p) => p.txid)).toEqual([tx.txid]);
    expect((await app.request(`/_emulator/pushes/${tx.txid}/approve`, { method: 'POST' })).status).toBe(204);
    expect(await tx.done).toMatchObject({ result: 'allow' });
    state.close();
  });
});
