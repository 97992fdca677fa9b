import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../log.ts';
import { startRelay } from './runtime.ts';

/**
 * `duo-relay start`: run until SIGTERM/SIGINT (graceful: stop reading, let in-flight logins finish
 * up to relay.shutdown_grace_ms). SIGHUP reloads the config. Throws ConfigError for a bad config.
 */
export async function start(configFile: string): Promise<void> {
  const loaded = await loadConfig(configFile);
  const logger = createLogger(loaded.config.log.level);
  const runtime = await startRelay(loaded, { logger, loadConfig: () => loadConfig(configFile) });
  const grace = loaded.config.relay.shutdown_grace_ms;

  await new Promise<void>((resolve) => {
    const onHup = () => void runtime.reload();
    process.on('SIGHUP', onHup);
    closeWithGrace(
      {
        delay: grace + 2_000,
        skip: ['SIGHUP'],
        logger: { error: (m: unknown, ...rest: unknown[]) => logger.error({ detail: [m, ...rest] }, 'shutdown') },
      },
      async ({ signal, err }) => {
        if (err) logger.error({ err }, 'fatal error; shutting down');
        else logger.info({ signal }, 'shutting down');
        process.off('SIGHUP', onHup);
        await runtime.stop(grace);
        resolve();
      },
    );
  });
}
