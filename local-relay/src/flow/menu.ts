import { type NumberedKind, numberedFactorsOf } from '@duo-edge/contract/factors';
import { REPLY } from '@duo-edge/contract/messages';
import type { Device } from '@duo-edge/contract/wire';

/**
 * Challenge mode's numbered menu, built from the devices of Duo's v2 preauth answer the way Duo's
 * own text prompt reads: one line per device and capability (push, phone call, SMS passcodes), then
 * `Passcode or option (1-N):`. Each option maps to a factor token (`push1`, `sms2` …) that
 * parseFactorToken resolves back to its device, so option numbers and device numbers share one rule.
 */
export interface FactorMenu {
  /** The console text (Duo's prompt). */
  text: string;
  /** Option number → factor token, plus `default` (the first option) as Duo's factors map has it. */
  factors: Record<string, string>;
}

const LABEL: Readonly<Record<NumberedKind, string>> = {
  push: 'Duo Push to',
  phone: 'Phone call to',
  sms: 'SMS passcodes to',
};

const KINDS = Object.keys(LABEL) as NumberedKind[];

export function buildFactorMenu(username: string, devices: ReadonlyArray<Device>): FactorMenu {
  const factors: Record<string, string> = {};
  const lines: string[] = [];
  for (const { device, kind, token } of numberedFactorsOf(devices, KINDS)) {
    const key = String(lines.length + 1);
    factors[key] = token;
    factors.default ??= token;
    lines.push(` ${key}. ${LABEL[kind]} ${device.number ?? device.display_name ?? device.name ?? device.device}`);
  }
  // No device to offer (tokens only): the proxy's plain passcode prompt.
  if (lines.length === 0) return { text: REPLY.enterPasscode, factors };
  return {
    text: `Duo two-factor login for ${username}\n\nEnter a passcode or select one of the following options:\n\n${lines.join('\n')}\n\nPasscode or option (1-${lines.length}): `,
    factors,
  };
}

/**
 * An answer of fewer digits than any Duo passcode that names no option: an out-of-range menu
 * choice. It never goes to Duo as a passcode (that would count a failed passcode against the user).
 */
export function isUnknownOption(answer: string, factors: Readonly<Record<string, string>>): boolean {
  return /^\d{1,5}$/.test(answer) && !(Object.hasOwn(factors, answer) && answer !== 'default');
}
