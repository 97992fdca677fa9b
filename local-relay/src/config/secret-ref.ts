import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * A secret in the config: inline text, `{ file = "path" }` (first line, trailing newline dropped) or
 * `{ env = "NAME" }`. Resolved while validating so an error names the key; the value is never
 * echoed into a message.
 */
export interface SecretContext {
  baseDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

export function secretRef(ctx: SecretContext) {
  return z
    .union([z.string(), z.object({ file: z.string().min(1) }).strict(), z.object({ env: z.string().min(1) }).strict()])
    .transform((value, issue) => {
      let resolved: string | undefined;
      if (typeof value === 'string') resolved = value;
      else if ('file' in value) {
        const path = resolve(ctx.baseDir, value.file);
        try {
          resolved = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
        } catch (error) {
          issue.addIssue({
            code: 'custom',
            message: `cannot read secret file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
          });
          return z.NEVER;
        }
      } else {
        resolved = ctx.env[value.env];
        if (resolved === undefined) {
          issue.addIssue({ code: 'custom', message: `environment variable ${value.env} is not set` });
          return z.NEVER;
        }
      }
      if (resolved === '') {
        issue.addIssue({ code: 'custom', message: 'secret is empty' });
        return z.NEVER;
      }
      return resolved;
    });
}
