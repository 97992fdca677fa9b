import { createApp } from './app.ts';

export { UserGate } from './coordination/user-gate.ts';

const app = createApp();

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
