import { readFile } from 'node:fs/promises';

/** Resident set size of another process, from /proc (Linux): what the kernel charges it. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) / 1024;
}

/** Samples a process's RSS every `intervalMs` until stopped; `peak` and `samples` in MiB. */
export function sampleRss(pid: number, intervalMs = 250): { stop(): Promise<{ peak: number; samples: number[] }> } {
  const samples: number[] = [];
  let pending: Promise<void> = Promise.resolve();
  const take = () => {
    pending = rssMiB(pid).then(
      (v) => void samples.push(v),
      () => {},
    );
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      return { peak: Math.max(0, ...samples), samples };
    },
  };
}
