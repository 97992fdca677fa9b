import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE } from '../../scripts/release/build.ts';
import { WINDOWS_ZIP, ZIP_ENTRIES } from '../../scripts/release/windows.ts';
import { runProcess } from '../support/process.ts';
import { aloneInTempDir, artifact } from './dist.ts';

/**
 * The Windows zip, checked statically: no Windows here, and Debian's wine (8.0) cannot start
 * Node 24's V8 (it aborts reserving its pointer-compression cage), with or without the relay.
 */
describe('duo-relay-win-x64.zip', () => {
  let dir: string;
  let unzipped: string;
  const text = (name: string) => readFile(join(unzipped, name), 'utf8');

  beforeAll(async () => {
    const { dir: d, file } = await aloneInTempDir(WINDOWS_ZIP);
    dir = d;
    unzipped = join(dir, 'unzipped');
    const x = await runProcess('unzip', ['-q', file, '-d', unzipped]);
    expect(x.code, x.stderr).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the exe, the service wrapper with its XML, the scripts and an example config', async () => {
    const listing = (await runProcess('unzip', ['-Z1', artifact(WINDOWS_ZIP)])).stdout.trim().split('\n');
    expect(listing).toEqual(ZIP_ENTRIES);
    expect(listing).toEqual(
      expect.arrayContaining([
        'duo-relay.exe',
        'duo-relay-service.exe',
        'duo-relay-service.xml',
        'install-service.ps1',
      ]),
    );
  });

  it('duo-relay.exe is an unsigned x86-64 PE console program carrying the relay bundle', async () => {
    const exe = await readFile(join(unzipped, 'duo-relay.exe'));
    expect(exe.toString('latin1', 0, 2)).toBe('MZ');
    const pe = exe.readUInt32LE(0x3c);
    expect(exe.toString('latin1', pe, pe + 4)).toBe('PE\0\0');
    expect(exe.readUInt16LE(pe + 4)).toBe(0x8664);
    const optional = pe + 24;
    expect(exe.readUInt16LE(optional)).toBe(0x20b); // PE32+
    expect(exe.readUInt16LE(optional + 68)).toBe(3); // IMAGE_SUBSYSTEM_WINDOWS_CUI
    // Data directory 4 is the Authenticode certificate table: Node's signature was removed, not broken.
    expect(exe.readUInt32LE(optional + 112 + 4 * 8 + 4)).toBe(0);
    expect(exe.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
    expect(exe.includes(await readFile(artifact(BUNDLE)))).toBe(true);
  });

  it('the service runs duo-relay.exe from its own folder with the config the installer writes', async () => {
    const xml = await text('duo-relay-service.xml');
    const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
    expect(tag('id')).toBe('duo-relay');
    expect(tag('executable')).toBe('%BASE%\\duo-relay.exe');
    const install = await text('install-service.ps1');
    const dataDir = /\$dataDir = '([^']+)'/.exec(install)?.[1];
    expect(dataDir).toBe('C:\\ProgramData\\duo-relay');
    expect(install).toContain("$config = Join-Path $dataDir 'relay.toml'");
    expect(tag('arguments')).toBe(`start --config "${dataDir}\\relay.toml"`);
    expect(tag('workingdirectory')).toBe(dataDir);
    const copied = /foreach \(\$file in ([^)]*)\)/.exec(install)?.[1]?.match(/'[^']+'/g) ?? [];
    expect(copied.length).toBeGreaterThan(0);
    for (const file of copied) expect(ZIP_ENTRIES, file).toContain(file.slice(1, -1));
    expect(await text('relay.toml.example')).toMatch(/^state_dir = 'C:\\ProgramData\\duo-relay\\state' /m);
  });

  it('the service wrapper is WinSW, a .NET program', async () => {
    const winsw = await readFile(join(unzipped, 'duo-relay-service.exe'));
    expect(winsw.toString('latin1', 0, 2)).toBe('MZ');
    expect(winsw.includes(Buffer.from('winsw', 'utf16le')) || winsw.includes('winsw')).toBe(true);
    expect(await text('duo-relay-service.exe.config')).toContain('<supportedRuntime version="v4.0" />');
  });
});
