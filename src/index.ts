import { Hono } from 'hono';

// Placeholder until the edge API lands: health only.
const app = new Hono<{ Bindings: Env }>();
app.get('/v1/health', (c) => c.json({ ok: true }));

export default app;
export class UserGate implements DurableObject {
  fetch(): Response {
    return new Response('not implemented', { status: 501 });
  }
}
