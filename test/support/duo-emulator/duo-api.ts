import { Hono } from 'hono';
import { type EmulatorContext, type EmulatorEnv, missingParam, param } from './env.ts';
import { injectFaults } from './faults.ts';
import { recordRequest } from './record.ts';
import type { EmulatorState, Endpoint } from './state.ts';
import { type AuthOutcome, OUTCOME } from './transactions.ts';
import { type DemoDevice, findUser, promptFor, STATUS_MSG } from './users.ts';
import { verifyDuoSignature } from './verify.ts';

// Duo's real push expiry; only manual (human-answered) pushes wait this long.
const DUO_PUSH_EXPIRY_MS = 60_000;
const FACTORS = ['auto', 'push', 'phone', 'sms', 'passcode'];
const NO_DEVICE_OUTCOME: Record<'allow' | 'deny' | 'enroll', AuthOutcome> = {
  allow: { result: 'allow', status: 'bypass', status_msg: STATUS_MSG.allow },
  deny: { result: 'deny', status: 'locked_out', status_msg: STATUS_MSG.deny },
  enroll: { result: 'deny', status: 'deny', status_msg: STATUS_MSG.enroll },
};

const ok = (c: EmulatorContext, response: unknown) => c.json({ stat: 'OK', response });

/** /auth/v2/*: record, inject faults, verify (all but ping), then answer as Duo would for the demo users. */
export function duoApi(state: EmulatorState): Hono<EmulatorEnv> {
  const api = new Hono<EmulatorEnv>();
  const signed = (endpoint: Endpoint) =>
    [recordRequest(state), injectFaults(state, endpoint), verifyDuoSignature(state)] as const;
  const seconds = () => Math.floor(state.now() / 1000);

  api.get('/ping', recordRequest(state), injectFaults(state, 'ping'), (c) => ok(c, { time: seconds() }));
  api.get('/check', ...signed('check'), (c) => ok(c, { time: seconds() }));

  api.post('/preauth', ...signed('preauth'), (c) => {
    const username = param(c, 'username');
    if (!username) return missingParam(c, 'username');
    const user = findUser(username);
    switch (user.preauth) {
      case 'auth': {
        const devices = user.devices.map(({ capabilities, ...d }) => (capabilities ? { ...d, capabilities } : d));
        // Real Duo adds a ready text prompt only when the client asks (text_prompt=1, as duo_unix does).
        const prompt = param(c, 'text_prompt') === '1' ? { prompt: promptFor(username, user.devices) } : {};
        return ok(c, { result: 'auth', status_msg: STATUS_MSG.auth, devices, ...prompt });
      }
      case 'enroll': {
        const portal = `https://${[...state.integrations.values()][0]?.apiHost}/portal?code=${encodeURIComponent(username)}`;
        return ok(c, { result: 'enroll', status_msg: STATUS_MSG.enroll, enroll_portal_url: portal });
      }
      default:
        return ok(c, { result: user.preauth, status_msg: STATUS_MSG[user.preauth] });
    }
  });

  api.post('/auth', ...signed('auth'), async (c) => {
    const username = param(c, 'username');
    const factor = param(c, 'factor');
    const device = param(c, 'device');
    const passcode = param(c, 'passcode');
    if (!username) return missingParam(c, 'username');
    if (!factor || !FACTORS.includes(factor)) return missingParam(c, 'factor');
    if (factor === 'passcode' ? !passcode : !device)
      return missingParam(c, factor === 'passcode' ? 'passcode' : 'device');

    const user = findUser(username);
    const tx = state.transactions.open(username, factor);
    const finish = (outcome: AuthOutcome) =>
      state.transactions.finish(tx.txid, outcome.result === 'allow' ? 'approved' : 'denied', outcome);
    if (user.preauth !== 'auth') finish(NO_DEVICE_OUTCOME[user.preauth]);
    else if (factor === 'passcode') {
      const good = user.passcode !== undefined && passcode === user.passcode;
      finish(
        good
          ? OUTCOME.approved
          : { result: 'deny', status: 'deny', status_msg: 'Incorrect passcode. Please try again.' },
      );
    } else {
      const target = pickDevice(user.devices, factor, device!);
      if (!target) {
        state.transactions.finish(tx.txid, 'denied');
        return missingParam(c, 'device');
      }
      if (factor === 'sms') finish({ result: 'deny', status: 'sent', status_msg: 'New SMS passcodes sent.' });
      else {
        if (factor !== 'phone') state.countPush(username);
        answerLater(state, tx.txid, user.push);
      }
    }
    if (param(c, 'async') === '1') return ok(c, { txid: tx.txid });
    return ok(c, await tx.done);
  });

  api.get('/auth_status', ...signed('auth_status'), (c) => {
    const tx = state.transactions.get(param(c, 'txid') ?? '');
    if (!tx) return missingParam(c, 'txid');
    if (!tx.outcome)
      return ok(c, { result: 'waiting', status: 'pushed', status_msg: 'Pushed a login request to your device...' });
    return ok(c, tx.outcome);
  });

  return api;
}

/** `auto` means the first device able to do it; auto itself is push, else phone. */
function pickDevice(devices: DemoDevice[], factor: string, device: string): DemoDevice | undefined {
  const needs = factor === 'auto' ? ['push', 'phone'] : [factor];
  return devices.find(
    (d) => (device === 'auto' || d.device === device) && needs.some((n) => d.capabilities?.includes(n)),
  );
}

function answerLater(state: EmulatorState, txid: string, answer: 'approve' | 'deny' | 'timeout' | undefined): void {
  const { transactions } = state;
  if (!state.autoAnswerPushes || !answer) {
    transactions.after(DUO_PUSH_EXPIRY_MS, () => transactions.finish(txid, 'timeout'));
  } else if (answer === 'timeout') {
    transactions.after(state.pushTimeoutMs, () => transactions.finish(txid, 'timeout'));
  } else {
    transactions.after(state.pushDelayMs, () =>
      transactions.finish(txid, answer === 'approve' ? 'approved' : 'denied'),
    );
  }
}
