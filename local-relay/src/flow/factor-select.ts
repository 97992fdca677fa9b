import type { FactorPreference, PreauthResponse } from '@duo-edge/contract/wire';
import type { FactorChoice } from './factor-token.ts';

type AuthPreauth = Extract<PreauthResponse, { result: 'auth' }>;

export type Selection = { kind: 'auth'; choice: FactorChoice } | { kind: 'passcode' } | { kind: 'none' };

/**
 * The configured `factors` list against the user's devices, first usable entry wins (Duo's
 * factor_for_request): `auto` needs an out-of-band device (Duo's default), `push`/`phone` a device
 * with that capability, `passcode` is always usable (it becomes an `Enter passcode:` challenge).
 */
export function selectFactor(prefs: ReadonlyArray<FactorPreference>, pre: AuthPreauth): Selection {
  const can = (capability: string) => pre.devices.some((d) => d.capabilities.includes(capability));
  const hasDefault = pre.factors.default !== undefined || can('push') || can('phone');
  for (const p of prefs) {
    switch (p) {
      case 'auto':
        if (hasDefault) return { kind: 'auth', choice: { factor: 'auto', device: 'auto' } };
        break;
      case 'push':
        if (can('push')) return { kind: 'auth', choice: { factor: 'push', device: 'auto' } };
        break;
      case 'phone':
        if (can('phone')) return { kind: 'auth', choice: { factor: 'phone', device: 'auto' } };
        break;
      case 'passcode':
        return { kind: 'passcode' };
    }
  }
  return { kind: 'none' };
}
