import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stampTree } from './epoch.ts';
import { run } from './run.ts';
import { injectSea } from './sea.ts';

export const WINDOWS_ZIP = 'duo-relay-win-x64.zip';

/** Where the Windows service keeps its state; the Linux example's state_dir becomes this. */
const WINDOWS_STATE_DIR = "state_dir = 'C:\\ProgramData\\duo-relay\\state'";

/**
 * duo-relay-win-x64.zip: duo-relay.exe (the blob in Node's Windows executable), WinSW renamed to
 * duo-relay-service.exe beside its XML (WinSW reads the XML of its own base name), the
 * install/uninstall scripts and an example config with Windows paths.
 */
export async function buildWindowsZip(opts: {
  packaging: string;
  runtime: string;
  winsw: string;
  blob: string;
  epoch: number;
  workDir: string;
  out: string;
}): Promise<void> {
  const dir = join(opts.workDir, 'win-x64');
  await mkdir(dir, { recursive: true });
  // node.exe is Authenticode-signed; injecting the blob breaks that signature, and a broken one is
  // worse than none (Windows reports tampering). Sign the result with your own certificate.
  const unsigned = join(opts.workDir, 'node-unsigned.exe');
  await run('osslsigncode', ['remove-signature', '-in', opts.runtime, '-out', unsigned]);
  await injectSea(unsigned, opts.blob, join(dir, 'duo-relay.exe'));
  await copyFile(opts.winsw, join(dir, 'duo-relay-service.exe'));
  const windows = join(opts.packaging, 'windows');
  await writeFile(
    join(dir, 'duo-relay-service.exe.config'),
    // WinSW 1.x is a .NET program: prefer the .NET 4 runtime that every supported Windows has.
    '<configuration>\r\n  <startup>\r\n    <supportedRuntime version="v4.0" />\r\n    <supportedRuntime version="v2.0.50727" />\r\n  </startup>\r\n</configuration>\r\n',
  );
  for (const file of ['duo-relay-service.xml', 'install-service.ps1', 'uninstall-service.ps1']) {
    await writeFile(join(dir, file), crlf(await readFile(join(windows, file), 'utf8')));
  }
  const example = await readFile(join(opts.packaging, 'relay.toml.example'), 'utf8');
  const linuxStateDir = /^state_dir = "\/var\/lib\/duo-relay"/m;
  if (!linuxStateDir.test(example)) throw new Error('relay.toml.example: no state_dir = "/var/lib/duo-relay" to adapt');
  await writeFile(join(dir, 'relay.toml.example'), crlf(example.replace(linuxStateDir, WINDOWS_STATE_DIR)));
  await stampTree(dir, opts.epoch);
  // -X: no uid/gid extra fields; TZ=UTC: zip stores local time, which must not depend on the host.
  await run('zip', ['-q', '-X', '-D', opts.out, ...ZIP_ENTRIES], { cwd: dir, env: { ...process.env, TZ: 'UTC' } });
}

/** In this order inside the zip. */
export const ZIP_ENTRIES = [
  'duo-relay.exe',
  'duo-relay-service.exe',
  'duo-relay-service.exe.config',
  'duo-relay-service.xml',
  'install-service.ps1',
  'uninstall-service.ps1',
  'relay.toml.example',
];

const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n');
