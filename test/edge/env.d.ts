import type { D1Migration } from '@cloudflare/vitest-plugin';

// Test-only bindings, added in vitest.config.ts.
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
