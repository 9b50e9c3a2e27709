/**
 * The disk-full tests' tmpfs (test/tmpfs.ts) never outlives its test: unmounting works while a file on it is
 * still open (a server a timed-out test could not stop), and a process killed with the tmpfs mounted (no
 * afterAll runs) has it unmounted by the guard left behind. Both left a /tmp/spikeloop-* mount before.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitForOutput } from './cluster-helpers.ts';
import { mountTmpfs } from './tmpfs.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const isMount = (dir: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);

describe('tmpfs for the disk-full tests', () => {
  it('unmount() detaches it and removes the folder while a file on it is still open', (ctx) => {
    const fs = mountTmpfs(4, 'spikeloop-tmpfs-test-');
    if (!fs.mounted) return ctx.skip(fs.why);
    const fd = openSync(`${fs.dir}/held`, 'w');
    try {
      fs.unmount();
      expect({ mounted: isMount(fs.dir), folder: existsSync(fs.dir) }).toEqual({ mounted: false, folder: false });
    } finally {
      closeSync(fd);
    }
  });

  it('a process killed with it mounted (no afterAll) leaves no mount behind', async (ctx) => {
    const code = "import { mountTmpfs } from './test/tmpfs.ts'; const f = mountTmpfs(4, 'spikeloop-tmpfs-test-'); console.log(JSON.stringify(f)); setInterval(() => {}, 1000);";
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const [line] = await waitForOutput(child, /\{.*\}/);
    const fs = JSON.parse(line) as { dir: string; mounted: boolean; why: string };
    if (!fs.mounted) {
      child.kill('SIGKILL');
      return ctx.skip(fs.why);
    }
    expect(isMount(fs.dir)).toBe(true);
    child.kill('SIGKILL');
    await expect.poll(() => isMount(fs.dir) || existsSync(fs.dir), { timeout: 10_000 }).toBe(false);
  });
});
