import { chmod, copyFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { run } from './run.ts';
import { NODE_VERSION, RELAY_NODE_FLAGS } from './runtimes.ts';

/** Node's fuse that tells a node binary it carries an application (documented in Node's SEA guide). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const POSTJECT = createRequire(import.meta.url).resolve('postject/dist/cli.js');

/**
 * The SEA preparation blob of the bundle. No code cache and no snapshot: both are specific to the
 * V8 build and architecture, and one blob goes into the x64, arm64 and Windows executables.
 */
export async function seaBlob(bundle: string, workDir: string): Promise<string> {
  if (process.version !== `v${NODE_VERSION}`) {
    throw new Error(
      `the SEA blob must be made by Node ${NODE_VERSION} (the runtime it goes into), not ${process.version}`,
    );
  }
  const config = join(workDir, 'sea-config.json');
  const blob = join(workDir, 'sea-prep.blob');
  await writeFile(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
      // Applied before the bundle runs, as if on the node command line; NODE_OPTIONS still adds to them.
      execArgv: RELAY_NODE_FLAGS,
    }),
  );
  await run(process.execPath, ['--experimental-sea-config', config], { cwd: workDir });
  return blob;
}

/** A copy of a Node executable with the blob injected: one file that runs the relay. */
export async function injectSea(runtime: string, blob: string, out: string): Promise<void> {
  await copyFile(runtime, out);
  await chmod(out, 0o755);
  await run(process.execPath, [POSTJECT, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
}
