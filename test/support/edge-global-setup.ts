import type { TestProject } from 'vitest/node';
import { startEmulator } from './duo-emulator/index.ts';

/** One Duo emulator for the edge project, on a free loopback port; edge test files run one at a time. */
export default async function setup(project: TestProject) {
  const emulator = await startEmulator();
  project.provide('duoBaseUrl', emulator.url);
  return () => emulator.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    duoBaseUrl: string;
  }
}
