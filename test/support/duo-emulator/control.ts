import { Hono } from 'hono';
import type { EmulatorEnv } from './env.ts';
import { type EmulatorState, faultSpec } from './state.ts';

/** Test and demo control: /_emulator/faults, /_emulator/requests, /_emulator/pushes. Never signed. */
export function emulatorControl(state: EmulatorState): Hono<EmulatorEnv> {
  const control = new Hono<EmulatorEnv>();

  control.get('/faults', (c) => c.json([...state.faults.values()]));
  control.post('/faults', async (c) => {
    const spec = faultSpec.safeParse(await c.req.json().catch(() => undefined));
    if (!spec.success) return c.json({ error: spec.error.issues.map((i) => i.path.join('.') || 'body') }, 400);
    state.faults.set(spec.data.endpoint, spec.data);
    return c.json(spec.data);
  });
  control.delete('/faults', (c) => {
    state.faults.clear();
    return c.body(null, 204);
  });

  control.get('/requests', (c) => c.json({ requests: state.requests, pushes: Object.fromEntries(state.pushes) }));
  control.delete('/requests', (c) => {
    state.clearRequests();
    return c.body(null, 204);
  });

  control.get('/pushes', (c) =>
    c.json(
      state.transactions
        .pending()
        .map(({ txid, username, factor, createdAt }) => ({ txid, username, factor, createdAt })),
    ),
  );
  control.post('/pushes/:txid/:answer{approve|deny}', (c) => {
    const { txid, answer } = c.req.param();
    const done = answer === 'approve' ? state.approve(txid) : state.deny(txid);
    return done ? c.body(null, 204) : c.json({ error: 'no pending transaction' }, 404);
  });

  return control;
}
