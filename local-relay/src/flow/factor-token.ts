import { type NumberedFactor, numberedDevice, parseNumberedFactor } from '@duo-edge/contract/factors';
import type { Device } from '@duo-edge/contract/wire';

/**
 * What a user typed as a second factor (concat suffix, duo_only password, challenge answer):
 * `push`, `phone`, `sms` (optionally numbered as Duo numbers them: `push2` = push to the second phone),
 * `auto`, or a passcode.
 */
export type FactorChoice =
  | { factor: 'auto' | 'push' | 'phone' | 'sms'; device: string }
  | { factor: 'passcode'; passcode: string };

const NAMED = /^(auto|push|phone|voice|sms|smsrefresh)(\d*)$/i;
const PASSCODE = /^[0-9A-Za-z]{1,32}$/;
/** Suffixes that make a concat split credible: anything else is part of the password. */
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
    const numbered = factor === 'auto' ? undefined : parseNumberedFactor(text);
    return { factor, device: numbered ? deviceFor(devices, numbered, text) : 'auto' };
  }
  if (PASSCODE.test(text)) return { factor: 'passcode', passcode: text };
  return undefined;
}

/**
 * The device id when the relay can resolve the token from preauth's devices; otherwise the token
 * goes to the edge as is, which resolves it by the same rule and answers that no factor is usable.
 */
function deviceFor(devices: ReadonlyArray<Device>, numbered: NumberedFactor, token: string): string {
  return numberedDevice(devices, numbered.kind, numbered.n)?.device ?? token.toLowerCase();
}
