import { relative } from 'node:path';
import { ROOT } from '../launcher/paths.ts';
import { DEMO } from './options.ts';
import type { LocalStack } from './stack.ts';

/** What a person sees once `npm start` is up: where everything is and lines to paste. */
export function banner(stack: LocalStack, manualPush: boolean): string {
  const { host, port } = stack.radius;
  const target = `${host}:${port}`;
  const state = shortPath(stack.files.dir);
  const config = shortPath(stack.files.relayConfig);
  const duoRelay =
    process.cwd() === ROOT ? 'npx duo-relay' : `npx node ${shortPath(`${ROOT}/local-relay/bin/duo-relay.js`)}`;
  const serverFlag = port === 1812 ? '' : ` --server ${target}`;
  const lines = [
    '',
    'duo-edge local stack is up: everything on loopback, demo keys, no account needed.',
    '',
    stack.emulatorUrl
      ? `  Duo emulator   ${stack.emulatorUrl}/   (pending pushes: approve or deny them here)`
      : `  Duo API        ${stack.duoUrl}   (DUO_API_BASE_URL; the embedded emulator is not running)`,
    `  Edge worker    ${stack.edgeUrl}   (GET /v1/health)`,
    `  Admin console  ${stack.edgeUrl}/admin/   (admin token: ${stack.files.adminToken})`,
    `  RADIUS relay   udp ${target}   client ${host}, secret ${DEMO.radiusSecret}, Message-Authenticator required`,
    `  Relay metrics  ${stack.metricsUrl}/metrics   (/healthz, /readyz)`,
    `  State          ${state}/   (relay.toml, keys, users.txt, local D1)`,
    '',
    'Try it:',
    `  ${duoRelay} test-auth alice alice-pass${serverFlag}`,
    `  echo 'User-Name=alice,User-Password=alice-pass,Message-Authenticator=0x00' | radclient -x ${target} auth ${DEMO.radiusSecret}`,
    `  radtest alice alice-pass ${target} 0 ${DEMO.radiusSecret}`,
    `  ${duoRelay} check --config ${config}`,
    '',
    'Demo users (password: <name>-pass):',
    '  alice  push approved              bob    push denied',
    '  carol  bypass, no second factor   dave   locked out',
    '  erin   not enrolled               frank  hardware token: answer the challenge with 123456',
    '  grace  push times out',
    '',
    manualPush
      ? 'Pushes wait for you on the emulator page (they expire after 60 s); give radclient time: -t 70.'
      : 'Pushes are answered by script. To answer them yourself on the emulator page: npm start -- --manual-push',
    'Ctrl-C stops everything.',
    '',
  ];
  if (!stack.edgeAcceptsRelay) {
    lines.push('WARNING: the relay could not fetch its site policy from the edge yet; see the log above.', '');
  }
  return lines.join('\n');
}

/** Relative to where npm start runs when below it, else absolute. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}
