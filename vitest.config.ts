import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { edgeTestBindings } from './test/support/edge-bindings.ts';

/**
 * Four projects: `edge` runs inside workerd (the real Workers runtime), `node` runs relay and
 * tooling tests in Node, `e2e` drives real processes (radclient, slapd, FreeRADIUS, the relay),
 * `release` builds dist/ and uses the artifacts as an admin would.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            // The production edge with a switchable Duo (test/support/edge-worker.ts); e2e runs src/index.ts.
            main: './test/support/edge-worker.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ...edgeTestBindings(inject<string>('duoBaseUrl')),
                TEST_MIGRATIONS: await readD1Migrations('./src/audit/migrations'),
              },
            },
          })),
        ],
        test: {
          name: 'edge',
          include: ['test/edge/**/*.test.ts'],
          setupFiles: ['test/edge/setup.ts'],
          // The Duo emulator (started once, in Node) holds fault state: files run one at a time.
          globalSetup: ['test/support/edge-global-setup.ts'],
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'release',
          include: ['test/release/**/*.test.ts'],
          environment: 'node',
          // `npm run release` once; the files then install and run the artifacts from dist/.
          globalSetup: ['test/release/build-dist.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
