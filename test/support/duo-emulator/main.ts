import { parseArgs } from 'node:util';
import { startEmulator } from './server.ts';

// `npx node test/support/duo-emulator/main.ts --port 8788 [--host 127.0.0.1]`
const { values } = parseArgs({ options: { port: { type: 'string', default: '8788' }, host: { type: 'string' } } });
const emulator = await startEmulator({ port: Number(values.port), host: values.host ?? '127.0.0.1' });
console.log(`Duo emulator listening on ${emulator.url} (faults: POST ${emulator.url}/_emulator/faults)`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulator.close().then(() => process.exit(0)));
}
