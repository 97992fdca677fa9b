import type { TestProject } from 'vitest/node';

// Placeholder: the Duo emulator work replaces this with a real emulator on a free loopback port.
export default function setup(project: TestProject) {
  project.provide('duoBaseUrl', 'http://127.0.0.1:9');
}
