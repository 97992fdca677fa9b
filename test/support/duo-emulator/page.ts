import { Hono } from 'hono';
import type { EmulatorEnv } from './env.ts';
import type { EmulatorState } from './state.ts';
import { DEMO_USERS } from './users.ts';

/**
 * `GET /`: the emulator's stand-in for Duo Mobile. Lists pending pushes (user, device, age, txid)
 * with Approve / Deny, refreshed every second through the existing /_emulator/pushes API. Values
 * from requests are rendered with textContent only, never as HTML.
 */
export function approvalPage(state: EmulatorState): Hono<EmulatorEnv> {
  const devices: Record<string, string> = {};
  for (const [name, user] of Object.entries(DEMO_USERS)) {
    const device = 'devices' in user ? user.devices[0] : undefined;
    if (device) devices[name] = device.display_name ? `${device.name} · ${device.display_name}` : device.name;
  }
  const boot = JSON.stringify({ devices, auto: state.autoAnswerPushes }).replace(/</g, '\\u003c');
  return new Hono<EmulatorEnv>().get('/', (c) =>
    c.html(PAGE.replace('__BOOT__', boot), 200, {
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'",
    }),
  );
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Duo emulator · pending pushes</title>
<noscript><meta http-equiv="refresh" content="3"></noscript>
<style>
  :root { color-scheme: light; --green: #1a7f37; --red: #cf222e; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f8fa; }
  header { background: #fff; border-bottom: 1px solid var(--line); padding: 18px 24px; display: flex; align-items: center; gap: 12px; }
  .logo { width: 34px; height: 34px; border-radius: 8px; background: var(--green); color: #fff; display: grid; place-items: center; font-weight: 700; }
  h1 { font-size: 18px; margin: 0; }
  header p { margin: 0; color: var(--muted); font-size: 13px; }
  main { max-width: 760px; margin: 28px auto; padding: 0 16px; }
  .mode { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; color: var(--muted); font-size: 13px; margin-bottom: 18px; }
  .mode strong { color: var(--ink); }
  .push { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px; margin-bottom: 12px; display: flex; align-items: center; gap: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
  .who { flex: 1; min-width: 0; }
  .user { font-size: 17px; font-weight: 600; }
  .meta { color: var(--muted); font-size: 13px; margin-top: 2px; overflow-wrap: anywhere; }
  .txid { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  form { margin: 0; display: flex; gap: 8px; }
  button { border: 0; border-radius: 8px; padding: 10px 18px; font: inherit; font-weight: 600; color: #fff; cursor: pointer; }
  button.approve { background: var(--green); }
  button.deny { background: var(--red); }
  button:disabled { opacity: .5; cursor: default; }
  .empty { text-align: center; color: var(--muted); background: #fff; border: 1px dashed var(--line); border-radius: 12px; padding: 36px 16px; }
  code { background: #eff2f5; border-radius: 5px; padding: 2px 6px; font-size: 13px; }
  footer { color: var(--muted); font-size: 12px; text-align: center; margin: 24px 0; }
</style>
</head>
<body>
<header>
  <div class="logo">D</div>
  <div><h1>Duo emulator</h1><p>Pending login requests, as Duo Mobile would show them</p></div>
</header>
<main>
  <div class="mode" id="mode"></div>
  <div id="list"><div class="empty">Loading…</div></div>
  <footer>Updates every second · API: <code>GET /_emulator/pushes</code>, <code>POST /_emulator/pushes/:txid/approve|deny</code></footer>
</main>
<script>
const BOOT = __BOOT__;
const list = document.getElementById('list');
const mode = document.getElementById('mode');
mode.innerHTML = BOOT.auto
  ? '<strong>Scripted answers are on:</strong> alice is approved, bob denied, grace times out, each after a moment. To answer pushes yourself, start the stack with <code>npm start -- --manual-push</code>.'
  : '<strong>Manual mode:</strong> every push waits for you here and expires after 60 seconds.';

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? s + ' s ago' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s ago';
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function card(p) {
  const row = el('div', 'push');
  const who = el('div', 'who');
  who.append(el('div', 'user', p.username));
  who.append(el('div', 'meta', (BOOT.devices[p.username] || 'device') + ' · ' + p.factor + ' · ' + ago(p.createdAt)));
  const tx = el('div', 'meta txid', p.txid);
  who.append(tx);
  const form = el('form');
  form.method = 'post';
  for (const answer of ['approve', 'deny']) {
    const b = el('button', answer, answer === 'approve' ? 'Approve' : 'Deny');
    b.type = 'submit';
    b.formAction = '/_emulator/pushes/' + encodeURIComponent(p.txid) + '/' + answer;
    b.addEventListener('click', async (ev) => {
      ev.preventDefault();
      for (const x of form.querySelectorAll('button')) x.disabled = true;
      await fetch(b.formAction, { method: 'POST' });
      refresh();
    });
    form.append(b);
  }
  row.append(who, form);
  return row;
}

async function refresh() {
  try {
    const res = await fetch('/_emulator/pushes', { cache: 'no-store' });
    const pushes = await res.json();
    pushes.sort((a, b) => b.createdAt - a.createdAt);
    list.replaceChildren(...(pushes.length ? pushes.map(card) : [emptyState()]));
  } catch {
    list.replaceChildren(el('div', 'empty', 'The emulator is not answering. Is the local stack still running?'));
  }
}

function emptyState() {
  const box = el('div', 'empty');
  box.append(el('div', '', 'No pending pushes.'));
  const hint = el('div', '');
  hint.append('Log in to see one here: ', el('code', '', 'npx duo-relay test-auth alice alice-pass'));
  box.append(hint);
  return box;
}

refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
