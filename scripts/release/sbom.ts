import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Metafile } from 'esbuild';
import { NODE_VERSION, WINSW, WINSW_VERSION } from './runtimes.ts';

interface NpmComponent {
  name: string;
  version: string;
  license?: string;
}

/**
 * The npm packages whose files esbuild put into the bundle, from its metafile: what ships, not what
 * the lockfile lists (dev tools, unused optional dependencies). Workspace packages (the contract)
 * resolve to their real paths outside node_modules: they are named by the package.json nearest to
 * each input, except the relay's own.
 */
export async function bundledPackages(root: string, metafile: Metafile): Promise<NpmComponent[]> {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const at = input.lastIndexOf('node_modules/');
    if (at < 0) {
      const workspace = packageDirOf(root, input);
      if (workspace !== undefined && workspace !== 'local-relay') dirs.add(workspace);
      continue;
    }
    const [scope = '', name = ''] = input.slice(at + 'node_modules/'.length).split('/');
    dirs.add(input.slice(0, at + 'node_modules/'.length) + (scope.startsWith('@') ? `${scope}/${name}` : scope));
  }
  const components = await Promise.all(
    [...dirs].map(async (dir) => {
      const manifest = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8')) as NpmComponent;
      return {
        name: manifest.name,
        version: manifest.version,
        ...(manifest.license ? { license: manifest.license } : {}),
      };
    }),
  );
  const unique = new Map(components.map((c) => [`${c.name}@${c.version}`, c]));
  return [...unique.values()].sort((a, b) =>
    a.name === b.name ? a.version.localeCompare(b.version) : a.name < b.name ? -1 : 1,
  );
}

/** The folder (relative to root) of the package.json nearest above a source file, if below root. */
function packageDirOf(root: string, input: string): string | undefined {
  for (let dir = dirname(input); dir !== '.' && dir !== '/' && !dir.startsWith('..'); dir = dirname(dir)) {
    if (existsSync(join(root, dir, 'package.json'))) return dir;
  }
  return undefined;
}

const purl = (c: { name: string; version: string }) =>
  `pkg:npm/${c.name.startsWith('@') ? `%40${c.name.slice(1)}` : c.name}@${c.version}`;

/**
 * CycloneDX 1.5 JSON. The serial number is derived from the content and the timestamp is the
 * source date, so the document is as reproducible as the bundle it describes.
 */
export function cycloneDx(opts: {
  version: string;
  epoch: number;
  bundleSha256: string;
  packages: NpmComponent[];
  esbuildVersion: string;
}): string {
  const relay = { name: 'duo-relay', version: opts.version };
  const library = (c: NpmComponent) => ({
    type: 'library',
    'bom-ref': purl(c),
    name: c.name,
    version: c.version,
    purl: purl(c),
    ...(c.license ? { licenses: [{ expression: c.license }] } : {}),
  });
  const components = [
    ...opts.packages.map(library),
    {
      type: 'platform',
      'bom-ref': `pkg:generic/node@${NODE_VERSION}`,
      name: 'node',
      version: NODE_VERSION,
      description: 'Node.js runtime of the single executables (linux-x64, linux-arm64, win-x64)',
      purl: `pkg:generic/node@${NODE_VERSION}`,
      licenses: [{ expression: 'MIT' }],
    },
    {
      type: 'application',
      'bom-ref': purl(WINSW),
      name: 'winsw',
      version: WINSW_VERSION,
      description: `Windows service wrapper, from ${WINSW.name}@${WINSW.version} (Windows zip only)`,
      purl: purl(WINSW),
      licenses: [{ expression: 'MIT' }],
    },
  ];
  const body = {
    metadata: {
      timestamp: new Date(opts.epoch * 1000).toISOString(),
      tools: { components: [{ type: 'application', name: 'esbuild', version: opts.esbuildVersion }] },
      component: {
        type: 'application',
        'bom-ref': purl(relay),
        name: relay.name,
        version: relay.version,
        purl: purl(relay),
        hashes: [{ alg: 'SHA-256', content: opts.bundleSha256 }],
      },
    },
    components,
    dependencies: [{ ref: purl(relay), dependsOn: components.map((c) => c['bom-ref']) }],
  };
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  // A name-based UUID (version 5 layout) from the content: the same document gets the same number.
  const uuid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-${((Number.parseInt(digest[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
  const document = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${uuid}`,
    version: 1,
    ...body,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
