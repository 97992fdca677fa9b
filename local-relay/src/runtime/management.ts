import { parseListen } from '../config/addresses.ts';
import { ConfigError } from '../config/errors.ts';
import type { RelayConfig } from '../config/schema.ts';
import { type ManagementServer, type Readiness, startManagementServer } from '../ops/management-server.ts';
import type { RelayMetrics } from '../ops/metrics.ts';

/** Starts `[management]` (unless disabled); a port that cannot be bound stops startup, naming the key. */
export async function startManagement(
  config: RelayConfig,
  file: string,
  metrics: RelayMetrics,
  ready: () => Readiness,
): Promise<ManagementServer | undefined> {
  const m = config.management;
  if (!m.enabled) return undefined;
  const at = parseListen(m.listen)!;
  try {
    return await startManagementServer({
      host: at.host,
      port: at.port,
      registry: metrics.registry,
      ready,
      allowRemote: m.allow_remote,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code ? `cannot listen on ${m.listen}: ${code}` : (error as Error).message;
    throw new ConfigError(file, [{ path: 'management.listen', message }]);
  }
}
