/**
 * `npm run release`: everything an admin installs, in dist/ (see local-relay/packaging/README.md).
 * One bundle of the relay goes into every artifact. Needs Node 24 (the pinned one npm scripts
 * use), dpkg-deb, zip and osslsigncode; the Node runtimes and WinSW come from npm, pinned.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { version as esbuildVersion } from 'esbuild';
import { bundleRelay } from './bundle.ts';
import { buildDeb, type DebArch, debName } from './deb.ts';
import { sourceDateEpoch } from './epoch.ts';
import { fetchPinnedFile } from './fetch.ts';
import { buildNpmPackage } from './npm-package.ts';
import { NODE_RUNTIMES, WINSW } from './runtimes.ts';
import { bundledPackages, cycloneDx } from './sbom.ts';
import { injectSea, seaBlob } from './sea.ts';
import { buildWindowsZip, WINDOWS_ZIP } from './windows.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PACKAGING = join(ROOT, 'local-relay/packaging');
const CACHE = join(ROOT, 'node_modules/.cache/duo-relay-release');

export const BUNDLE = 'duo-relay.cjs';
export const SBOM = 'duo-relay.cdx.json';
export const SUMS = 'SHA256SUMS';
/** Shipped as they are, for installing the binary by hand (RHEL family and other Linux). */
export const LOOSE_FILES = ['duo-relay.service', 'relay.toml.example'];
export const linuxBinary = (arch: 'x64' | 'arm64'): string => `duo-relay-linux-${arch}`;
const DEB_ARCH: Record<'x64' | 'arm64', DebArch> = { x64: 'amd64', arm64: 'arm64' };

export interface RelayManifest {
  version: string;
  description: string;
}

export async function relayManifest(): Promise<RelayManifest> {
  return JSON.parse(await readFile(join(ROOT, 'local-relay/package.json'), 'utf8')) as RelayManifest;
}

/** The parts that must be byte-identical from one commit: the bundle and the npm package. */
export async function buildPortable(outDir: string, workDir: string) {
  const manifest = await relayManifest();
  const epoch = await sourceDateEpoch(ROOT);
  const bundle = await bundleRelay(ROOT, manifest.version, join(outDir, BUNDLE));
  const npmPackage = await buildNpmPackage({
    packaging: PACKAGING,
    bundle: bundle.file,
    version: manifest.version,
    description: manifest.description,
    epoch,
    workDir,
    outDir,
  });
  return { manifest, epoch, bundle, npmPackage };
}

export async function release(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), 'duo-relay-release-'));
  try {
    const { manifest, epoch, bundle } = await buildPortable(outDir, workDir);
    const blob = await seaBlob(bundle.file, workDir);
    const linux = async (arch: 'x64' | 'arm64') => {
      const binary = join(outDir, linuxBinary(arch));
      await injectSea(await fetchPinnedFile(NODE_RUNTIMES[`linux-${arch}`], CACHE), blob, binary);
      await buildDeb({
        packaging: PACKAGING,
        binary,
        version: manifest.version,
        arch: DEB_ARCH[arch],
        epoch,
        workDir,
        out: join(outDir, debName(manifest.version, DEB_ARCH[arch])),
      });
    };
    const windows = async () =>
      buildWindowsZip({
        packaging: PACKAGING,
        runtime: await fetchPinnedFile(NODE_RUNTIMES['win-x64'], CACHE),
        winsw: await fetchPinnedFile(WINSW, CACHE),
        blob,
        epoch,
        workDir,
        out: join(outDir, WINDOWS_ZIP),
      });
    // Each target is mostly one external tool (postject, gzip, zip) at a time: side by side they use the cores.
    await Promise.all([linux('x64'), linux('arm64'), windows()]);
    const sbom = cycloneDx({
      version: manifest.version,
      epoch,
      bundleSha256: await sha256(bundle.file),
      packages: await bundledPackages(ROOT, bundle.metafile),
      esbuildVersion,
    });
    await writeFile(join(outDir, SBOM), sbom);
    for (const file of LOOSE_FILES) await copyFile(join(PACKAGING, file), join(outDir, file));
    await writeSums(outDir);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** SHA256SUMS in `sha256sum -c` format, sorted by name. */
async function writeSums(outDir: string): Promise<void> {
  const names = (await readdir(outDir)).filter((n) => n !== SUMS).sort();
  const lines = await Promise.all(names.map(async (n) => `${await sha256(join(outDir, n))}  ${n}\n`));
  await writeFile(join(outDir, SUMS), lines.join(''));
}

if (process.argv[1] === import.meta.filename) {
  const started = Date.now();
  await release(join(ROOT, 'dist'));
  console.log(`dist/ written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
