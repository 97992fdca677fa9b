import { Attr, Code, decodeText, getAttribute, getAttributes } from '../radius/index.ts';
import type { LineInput } from './line-input.ts';
import { createRadiusClient, type RadiusTarget } from './radius-client.ts';

/**
 * `duo-relay test-auth`: log in the way a NAS would and show what the relay answers. Exit status:
 * 0 Access-Accept, 1 Access-Reject, 2 no authentic answer (timeout, bad secret, challenge left
 * unanswered).
 */

export interface TestAuthOptions {
  username: string;
  /** Asked for (not echoed) when absent. */
  password?: string;
  target: RadiusTarget;
  secret: string;
  /** Appended as `password,factor` (concat): push, phone, sms, or a passcode. */
  factor?: string;
  /** Per request: a push waits for a person. */
  timeoutMs: number;
}

export const EXIT = { accept: 0, reject: 1, noAnswer: 2 } as const;

/** A relay issues one challenge per login; more rounds than this is a loop, not a login. */
const MAX_ROUNDS = 5;

const CODE_NAMES: Record<number, string> = {
  [Code.AccessAccept]: 'Access-Accept',
  [Code.AccessReject]: 'Access-Reject',
  [Code.AccessChallenge]: 'Access-Challenge',
};

export async function testAuth(
  opts: TestAuthOptions,
  io: { out: (s: string) => void; err: (s: string) => void },
  input: LineInput,
): Promise<number> {
  const where = `${opts.target.host.includes(':') ? `[${opts.target.host}]` : opts.target.host}:${opts.target.port}`;
  let password = opts.password ?? (await input.ask('Password: ', { secret: true }));
  if (password === undefined) {
    io.err('no password given');
    return EXIT.noAnswer;
  }
  if (opts.factor) password = `${password},${opts.factor}`;

  const client = await createRadiusClient(opts.target, opts.secret);
  try {
    let state: Uint8Array | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      io.out(
        `Sending Access-Request for ${opts.username} to ${where}${state ? ' (challenge answer)' : ''}, ` +
          `Message-Authenticator signed, NAS-IP-Address ${client.localAddress}`,
      );
      const outcome = await client.accessRequest(
        { username: opts.username, password, ...(state ? { state } : {}) },
        opts.timeoutMs,
      );
      if (outcome.kind === 'no_reply') {
        io.out(
          `No authentic reply from ${where}: ` +
            (outcome.detail ??
              `nothing within ${opts.timeoutMs / 1000} s (relay down, unknown client address, or wrong secret: the relay drops those silently)`),
        );
        return EXIT.noAnswer;
      }
      const { packet, ms } = outcome;
      const messages = getAttributes(packet, Attr.ReplyMessage).map(decodeText);
      io.out(`Received ${CODE_NAMES[packet.code] ?? `code ${packet.code}`} in ${ms} ms`);
      for (const m of messages) io.out(`  Reply-Message: ${m}`);
      switch (packet.code) {
        case Code.AccessAccept:
          return EXIT.accept;
        case Code.AccessReject:
          return EXIT.reject;
        case Code.AccessChallenge: {
          state = getAttribute(packet, Attr.State);
          const answer = await input.ask(`${messages.join('').trimEnd() || 'Answer:'} `);
          if (answer === undefined) {
            io.out('Challenge left unanswered');
            return EXIT.noAnswer;
          }
          password = answer;
          break;
        }
        default:
          io.out('Not an answer to an Access-Request');
          return EXIT.noAnswer;
      }
    }
    io.out(`Gave up after ${MAX_ROUNDS} challenges`);
    return EXIT.noAnswer;
  } finally {
    client.close();
    input.close();
  }
}
