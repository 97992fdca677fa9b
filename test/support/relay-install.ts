import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { type ChildEnv, type ProcessRun, runProcess } from './process.ts';

/** The folder of the npm workspace that ships `duo-relay`. */
export const RELAY_WORKSPACE = 'local-relay';

interface Manifest {
  name?: string;
  workspaces?: string[] | { packages?: string[] };
  dependencies?: Record<string, string>;
}

const manifest = async (folder: string): Promise<Manifest> =>
  JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as Manifest;

/**
 * What an install of the relay from `root` needs, relative to `root`: the root manifest and lock,
 * the relay's workspace, and every workspace package it depends on by name (followed through their
 * own dependencies). Read from the manifests, so a shared folder the relay starts to import without
 * declaring it is left out, as an admin's install would leave it out.
 */
export async function relayInstallSources(root: string): Promise<string[]> {
  const rootManifest = await manifest(root);
  const patterns = Array.isArray(rootManifest.workspaces)
    ? rootManifest.workspaces
    : (rootManifest.workspaces?.packages ?? []);
  const folderOf = new Map<string, string>();
  for (const folder of patterns) {
    if (folder.includes('*')) throw new Error(`workspace glob ${folder}: list the workspace folders one by one`);
    const name = (await manifest(join(root, folder))).name;
    if (name) folderOf.set(name, folder);
  }
  const folders = new Set<string>();
  const visit = async (folder: string): Promise<void> => {
    if (folders.has(folder)) return;
    folders.add(folder);
    for (const dep of Object.keys((await manifest(join(root, folder))).dependencies ?? {})) {
      const workspace = folderOf.get(dep);
      if (workspace) await visit(workspace);
    }
  };
  await visit(RELAY_WORKSPACE);
  return ['package.json', 'package-lock.json', ...folders];
}

/** The Node running this process first on PATH, so `#!/usr/bin/env node` and npm pick the pinned Node. */
export function pinnedNodeEnv(): ChildEnv {
  return { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
}

export interface RelayInstall {
  dir: string;
  sources: string[];
  npm: ProcessRun;
  /** `node_modules/.bin/duo-relay` of the install. */
  bin: string;
}

/**
 * Copies the relay's install sources from `root` (without any node_modules) into a new temp folder
 * and runs the production install there, from the npm cache the repository's own install warmed.
 */
export async function installRelayFrom(root: string): Promise<RelayInstall> {
  const dir = await mkdtemp(join(tmpdir(), 'duo-relay-install-'));
  const sources = await relayInstallSources(root);
  for (const source of sources) {
    await cp(join(root, source), join(dir, source), {
      recursive: true,
      filter: (from) => basename(from) !== 'node_modules',
    });
  }
  const npm = await runProcess(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--workspace',
      RELAY_WORKSPACE,
    ],
    { cwd: dir, env: pinnedNodeEnv(), killAfterMs: 180_000 },
  );
  return { dir, sources, npm, bin: join(dir, 'node_modules/.bin/duo-relay') };
}
