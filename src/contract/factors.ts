import type { Device } from './wire.ts';

/**
 * Duo's numbered factor tokens, as its text prompt and authproxy users write them: `push2`,
 * `phone1` (Duo's prompt map says `voice1`), `sms1` (`smsrefresh1`). A user types one after the
 * password (concat), as the duo_only password, or gets one from a challenge's option map.
 */
export type NumberedKind = 'push' | 'phone' | 'sms';

const NUMBERED = /^(push|phone|voice|sms|smsrefresh)([0-9]{1,9})$/i;
const KIND: Readonly<Record<string, NumberedKind>> = {
  push: 'push',
  phone: 'phone',
  voice: 'phone',
  sms: 'sms',
  smsrefresh: 'sms',
};

export interface NumberedFactor {
  kind: NumberedKind;
  /** 1-based; `push0` is no numbered factor. */
  n: number;
}

export function parseNumberedFactor(token: string): NumberedFactor | undefined {
  const m = NUMBERED.exec(token);
  const n = Number(m?.[2]);
  return m && n >= 1 ? { kind: KIND[m[1]!.toLowerCase()]!, n } : undefined;
}

/**
 * The device a numbered token names, numbered as Duo numbers them: N counts the user's phones
 * (devices of type `phone`, in preauth order) whatever they can do, and that phone must be able to
 * do the factor. So `push2` is the second phone, not the second push-capable device: a user whose
 * first phone is a landline has `phone1`, `phone2` and `push2`, and no `push1`.
 */
export function numberedDevice<D extends Pick<Device, 'type' | 'capabilities'>>(
  devices: ReadonlyArray<D>,
  kind: NumberedKind,
  n: number,
): D | undefined {
  const phone = devices.filter((d) => d.type === 'phone')[n - 1];
  return phone?.capabilities.includes(kind) ? phone : undefined;
}

/**
 * The inverse of numberedDevice: every numbered factor the user's phones offer, in Duo's order
 * (phone by phone, then `kinds` in the order given), each with the token that names it. Challenge
 * mode's menu is built from these, so an option and the token it maps to share one numbering.
 */
export function numberedFactorsOf<D extends Pick<Device, 'type' | 'capabilities'>>(
  devices: ReadonlyArray<D>,
  kinds: ReadonlyArray<NumberedKind>,
): Array<{ device: D; kind: NumberedKind; token: string }> {
  return devices
    .filter((d) => d.type === 'phone')
    .flatMap((device, i) =>
      kinds
        .filter((kind) => device.capabilities.includes(kind))
        .map((kind) => ({ device, kind, token: `${kind}${i + 1}` })),
    );
}
