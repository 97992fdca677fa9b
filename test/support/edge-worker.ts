import type { DuoClient } from '../../src/duo/api.ts';
import { createDuoClient } from '../../src/duo/client.ts';
import { createEdge } from '../../src/edge/create.ts';

/**
 * The Duo behind the user gate object, for the edge test project. The runtime constructs the
 * object, so a test cannot hand it a Duo; a test that needs an in-process one sets `client` (and
 * clears it when done). Unset, every call goes to the real client (the emulator).
 */
export const gateDuo: { client: DuoClient | null } = { client: null };

/** The edge test project's Worker: production's createEdge, with the Duo switchable per call. */
const edge = createEdge({
  createDuo: (integration, baseUrl) => {
    const real = createDuoClient(integration, baseUrl ? { baseUrl } : {});
    const pick = () => gateDuo.client ?? real;
    return {
      ping: (opts) => pick().ping(opts),
      check: (opts) => pick().check(opts),
      preauth: (params, opts) => pick().preauth(params, opts),
      auth: (params, opts) => pick().auth(params, opts),
      authAsync: (params, opts) => pick().authAsync(params, opts),
    };
  },
});

export const { UserGate, RelayNonces } = edge;
export default edge.worker;
