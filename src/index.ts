import { createApp } from './app.ts';
import { runRetention } from './audit/retention.ts';

export { RelayNonces } from './coordination/relay-nonces.ts';
export { UserGate } from './coordination/user-gate.ts';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (_controller, env, ctx) => ctx.waitUntil(runRetention(env, Date.now())),
} satisfies ExportedHandler<Env>;
