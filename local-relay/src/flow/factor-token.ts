import type { Device } from '@duo-edge/contract/wire';

/**
 * What a user typed as a second factor (concat suffix, duo_only password, challenge answer):
 * `push`, `phone`, `sms` (optionally numbered: `push2` = the user's second push-capable device),
 * `auto`, or a passcode.
 */
export type FactorChoice =
  | { factor: 'auto' | 'push' | 'phone' | 'sms'; device: string }
  | { factor: 'passcode'; passcode: string };

const NAMED = /^(auto|push|phone|voice|sms|smsrefresh)(\d*)$/i;
const PASSCODE = /^[0-9A-Za-z]{1,32}$/;
/** Suffixes that make a concat split credible (issue 4: anything else is part of the password). */
const CONCAT_FACTOR = /^(?:(?:push|phone|sms)\d*|\d+)$/i;

export const isConcatFactor = (suffix: string): boolean => CONCAT_FACTOR.test(suffix);

export function isFactorToken(text: string): boolean {
  return NAMED.test(text) || PASSCODE.test(text);
}

/** undefined: not a factor and not a well-formed passcode. */
export function parseFactorToken(text: string, devices: ReadonlyArray<Device>): FactorChoice | undefined {
  const named = NAMED.exec(text);
  if (named) {
    const word = named[1]!.toLowerCase();
    const factor =
      word === 'voice' ? 'phone' : word === 'smsrefresh' ? 'sms' : (word as 'auto' | 'push' | 'phone' | 'sms');
    const n = named[2] ? Number(named[2]) : 0;
    return { factor, device: factor === 'auto' || n === 0 ? 'auto' : deviceFor(devices, factor, n, text) };
  }
  if (PASSCODE.test(text)) return { factor: 'passcode', passcode: text };
  return undefined;
}

/**
 * `push2` names the second device able to push. When the relay cannot resolve it (no such device)
 * the token goes to the edge as is, and Duo decides.
 */
function deviceFor(devices: ReadonlyArray<Device>, capability: string, n: number, token: string): string {
  return capableDevices(devices, capability)[n - 1]?.device ?? token.toLowerCase();
}

const capableDevices = (devices: ReadonlyArray<Device>, capability: string): Device[] =>
  devices.filter((d) => d.capabilities.includes(capability));

/**
 * Every device × capability in device order, each with the token that names it (`push2`: the second
 * push-capable device), the inverse of deviceFor: challenge mode's menu is built from these.
 */
export function factorTokensOf(
  devices: ReadonlyArray<Device>,
  capabilities: ReadonlyArray<string>,
): Array<{ device: Device; capability: string; token: string }> {
  return devices.flatMap((device) =>
    capabilities
      .filter((capability) => device.capabilities.includes(capability))
      .map((capability) => ({
        device,
        capability,
        token: `${capability}${capableDevices(devices, capability).indexOf(device) + 1}`,
      })),
  );
}
