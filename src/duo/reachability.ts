import type { EdgeServices } from '../edge/services.ts';
import type { Sites } from '../sites/load.ts';

export interface Reachability {
  reachable: boolean | null;
  /** Unix seconds of the last completed check. */
  checked_at: number | null;
}

const REFRESH_MS = 60_000;
const CHECK_DEADLINE_MS = 3_000;

interface State extends Reachability {
  checkedAtMs: number;
  inflight?: Promise<void>;
}

/**
 * Duo is reachable when a signed /auth/v2/check succeeds for every configured integration. The
 * answer is kept by the edge createEdge builds (one per isolate) and per config, so health probes
 * never turn into a stream of signed Duo calls.
 */
export function duoReachability(): (edge: EdgeServices) => Promise<Reachability> {
  const states = new WeakMap<Sites, State>();
  return (edge) => reachability(states, edge);
}

async function reachability(states: WeakMap<Sites, State>, edge: EdgeServices): Promise<Reachability> {
  let state = states.get(edge.sites);
  if (!state) {
    state = { reachable: null, checked_at: null, checkedAtMs: Number.NEGATIVE_INFINITY };
    states.set(edge.sites, state);
  }
  if (edge.now() - state.checkedAtMs >= REFRESH_MS) {
    state.inflight ??= refresh(edge, state).finally(() => {
      if (state) state.inflight = undefined;
    });
    await state.inflight;
  }
  return { reachable: state.reachable, checked_at: state.checked_at };
}

async function refresh(edge: EdgeServices, state: State): Promise<void> {
  const deadline = edge.now() + CHECK_DEADLINE_MS;
  const results = await Promise.all(
    [...edge.sites.integrations.values()].map((integration) => edge.duoFor(integration).check({ deadline })),
  );
  const at = edge.now();
  state.reachable = results.every((r) => r.ok);
  state.checked_at = Math.floor(at / 1000);
  state.checkedAtMs = at;
}
