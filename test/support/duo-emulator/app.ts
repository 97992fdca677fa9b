import { Hono } from 'hono';
import { emulatorControl } from './control.ts';
import { duoApi } from './duo-api.ts';
import { duoFail, type EmulatorEnv } from './env.ts';
import { approvalPage } from './page.ts';
import { type EmulatorOptions, EmulatorState } from './state.ts';

export interface Emulator {
  app: Hono<EmulatorEnv>;
  state: EmulatorState;
}

/** Duo Auth API v2 emulator as a Hono app; state holds requests, faults and transactions. */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const state = new EmulatorState(options);
  const app = new Hono<EmulatorEnv>();
  app.route('/auth/v2', duoApi(state));
  app.route('/_emulator', emulatorControl(state));
  app.route('/', approvalPage(state));
  app.notFound((c) => duoFail(c, 404, 40401, 'Resource not found'));
  return { app, state };
}
