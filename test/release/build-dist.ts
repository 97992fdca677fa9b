import { spawnSync } from 'node:child_process';
import { ROOT } from '../../scripts/release/build.ts';

/**
 * Global setup of the release tests: `npm run release` once, as a release manager runs it; every
 * test then takes its artifact out of dist/ and uses it outside the repository.
 * DUO_RELAY_DIST_PREBUILT=1 reuses dist/ from an earlier run while iterating on the tests.
 */
export default function buildDist(): void {
  if (process.env.DUO_RELAY_DIST_PREBUILT === '1') return;
  const res = spawnSync('npm', ['run', 'release'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`npm run release failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  const written = res.stdout.split('\n').find((l) => l.startsWith('dist/'));
  if (written) process.stdout.write(`${written}\n`);
}
