/**
 * The demo users the README lists under "The local stack" and what Duo does for each.
 * alice and frank also accept passcode 123456; nobody else has a valid passcode.
 */

export interface DemoDevice {
  device: string;
  type: 'phone' | 'token';
  name: string;
  display_name?: string;
  number?: string;
  /** Duo omits capabilities on token devices. */
  capabilities?: string[];
}

/** How a pending push (or phone call) ends when the emulator answers it by itself. */
export type PushAnswer = 'approve' | 'deny' | 'timeout';

export type DemoUser =
  | { preauth: 'auth'; devices: DemoDevice[]; push?: PushAnswer; passcode?: string }
  | { preauth: 'allow' | 'deny' | 'enroll' };

export const DEMO_PASSCODE = '123456';

const phone = (id: string, owner: string, last4: string): DemoDevice => ({
  device: id,
  type: 'phone',
  name: `${owner}'s phone`,
  display_name: `iOS (XXX-XXX-${last4})`,
  number: `XXX-XXX-${last4}`,
  capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'],
});

export const DEMO_USERS: Readonly<Record<string, DemoUser>> = {
  alice: {
    preauth: 'auth',
    devices: [phone('DPALICE0000000000001', 'Alice', '0001')],
    push: 'approve',
    passcode: DEMO_PASSCODE,
  },
  bob: { preauth: 'auth', devices: [phone('DPBOB000000000000002', 'Bob', '0002')], push: 'deny' },
  carol: { preauth: 'allow' },
  dave: { preauth: 'deny' },
  erin: { preauth: 'enroll' },
  frank: {
    preauth: 'auth',
    devices: [{ device: 'DPFRANK0000000000006', type: 'token', name: "Frank's hardware token" }],
    passcode: DEMO_PASSCODE,
  },
  grace: { preauth: 'auth', devices: [phone('DPGRACE0000000000007', 'Grace', '0007')], push: 'timeout' },
};

/** Unknown users are not enrolled, as with Duo's default new-user policy "require enrollment". */
export function findUser(username: string): DemoUser {
  return Object.hasOwn(DEMO_USERS, username) ? DEMO_USERS[username]! : { preauth: 'enroll' };
}

export const STATUS_MSG = {
  auth: 'Account is active',
  allow: 'Allowing user in bypass mode',
  deny: 'Your account is locked out',
  enroll: 'Enroll an authentication device to proceed',
} as const;

const OPTIONS = [
  ['push', 'Duo Push to'],
  ['phone', 'Phone call to'],
  ['sms', 'SMS passcodes to'],
] as const;

/**
 * The text prompt Duo nests in a preauth answer for text_prompt=1 clients: `{text, factors}`, with
 * `push1` naming the user's first phone (Duo numbers phones, not capabilities).
 */
export function promptFor(username: string, devices: DemoDevice[]): { text: string; factors: Record<string, string> } {
  const factors: Record<string, string> = {};
  const lines: string[] = [];
  devices.forEach((d, i) => {
    for (const [capability, label] of OPTIONS) {
      if (!d.capabilities?.includes(capability)) continue;
      const key = String(lines.length + 1);
      factors[key] = `${capability}${i + 1}`;
      factors.default ??= factors[key];
      lines.push(` ${key}. ${label} ${d.number ?? d.name}`);
    }
  });
  const head = `Duo two-factor login for ${username}\n\n`;
  if (lines.length === 0) return { text: `${head}Passcode: `, factors };
  const menu = lines.join('\n');
  return {
    text: `${head}Enter a passcode or select one of the following options:\n\n${menu}\n\nPasscode or option (1-${lines.length}): `,
    factors,
  };
}
