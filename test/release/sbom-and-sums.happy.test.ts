import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, relayManifest, SBOM, SUMS } from '../../scripts/release/build.ts';
import { runProcess } from '../support/process.ts';
import { artifact, DIST } from './dist.ts';

interface CdxComponent {
  type: string;
  name: string;
  version: string;
  purl?: string;
}

describe('duo-relay.cdx.json', () => {
  it('is a CycloneDX 1.5 document about this relay version', async () => {
    const sbom = JSON.parse(await readFile(artifact(SBOM), 'utf8'));
    expect(sbom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1 });
    expect(sbom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sbom.metadata.component).toMatchObject({ name: 'duo-relay', version: (await relayManifest()).version });
  });

  it('lists every runtime dependency of the relay at the version installed, and the embedded Node', async () => {
    const sbom = JSON.parse(await readFile(artifact(SBOM), 'utf8')) as { components: CdxComponent[] };
    const relay = JSON.parse(await readFile(join(ROOT, 'local-relay/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(relay.dependencies)) {
      const installed = JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
      expect(sbom.components, name).toContainEqual(
        // Package URLs percent-encode a scope's `@` (`pkg:npm/%40duo-edge/contract@…`).
        expect.objectContaining({
          name,
          version: installed.version,
          purl: `pkg:npm/${name.replace(/^@/, '%40')}@${installed.version}`,
        }),
      );
    }
    const node = sbom.components.find((c) => c.name === 'node');
    expect(node?.version).toBe(process.version.slice(1));
  });
});

describe('SHA256SUMS', () => {
  it('covers every other file in dist/ and checks with sha256sum -c', async () => {
    const sums = await readFile(artifact(SUMS), 'utf8');
    const listed = sums
      .trim()
      .split('\n')
      .map((l) => l.split('  ')[1]);
    const files = (await readdir(DIST)).filter((n) => n !== SUMS).sort();
    expect(listed).toEqual(files);
    const check = await runProcess('sha256sum', ['-c', SUMS], { cwd: DIST });
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });
});
