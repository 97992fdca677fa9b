export { createEmulator, type Emulator } from './app.ts';
export { type RunningEmulator, startEmulator } from './server.ts';
export {
  DEMO_INTEGRATION,
  type EmulatorOptions,
  EmulatorState,
  type FaultSpec,
  type RecordedRequest,
} from './state.ts';
export type { AuthOutcome, Transaction, TxState } from './transactions.ts';
export { DEMO_PASSCODE, DEMO_USERS } from './users.ts';
