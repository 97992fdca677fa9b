/** A config problem: which file, which key, what is wrong. Startup stops with EX_CONFIG. */
export interface ConfigProblem {
  /** Dotted key path, e.g. `server[0].client[1].secret`; empty for whole-file problems. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly problems: ReadonlyArray<ConfigProblem>;
  constructor(file: string, problems: ReadonlyArray<ConfigProblem>) {
    super(problems.map((p) => `${file}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

/** sysexits.h EX_CONFIG. */
export const EX_CONFIG = 78;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
