// Preloaded with `node --import` into a child process: appends the URL of every module it loads
// to the file named by MODULE_TRACE_FILE, so a test can see what a command pulled into memory.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.MODULE_TRACE_FILE;
if (file) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(file, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
