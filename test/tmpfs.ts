/** A small real file system for the disk-full tests: a tmpfs mounted for the test file (root only). */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Tmpfs {
  /** The mount point ('' when not mounted). */
  dir: string;
  mounted: boolean;
  /** Why it is not mounted (for the skip message). */
  why: string;
  /** Unmounts it and removes the folder (once). */
  unmount(): void;
}

/**
 * A guard that outlives this process: a detached shell that lazily unmounts `dir` once this process has died
 * without unmounting it (the worker killed by a timeout or Ctrl-C runs no afterAll), and exits as soon as the
 * folder is no longer a mount point.
 */
function unmountWhenGone(dir: string): void {
  const script = 'while kill -0 "$1" 2>/dev/null && mountpoint -q "$2"; do sleep 0.5; done; if mountpoint -q "$2"; then umount -l "$2" && rmdir "$2"; fi';
  spawn('sh', ['-c', script, 'sh', String(process.pid), dir], { detached: true, stdio: 'ignore' }).unref();
}

/**
 * Mounts a tmpfs of `sizeMb` MiB on a new temporary folder, when root and the container allows it. No mount
 * outlives the test: unmount() detaches it even while a file on it is still open, and a guard process
 * unmounts it when this process dies first.
 */
export function mountTmpfs(sizeMb: number, prefix: string): Tmpfs {
  const none = (why: string): Tmpfs => ({ dir: '', mounted: false, why, unmount: () => undefined });
  if (process.getuid?.() !== 0) return none('needs root to mount a small tmpfs');
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  } catch {
    rmdirSync(dir);
    return none('mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?)');
  }
  unmountWhenGone(dir);
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      // busy: a file on it is still open (a server or store a failed or timed-out test could not close).
      // Detached now; the kernel frees it when the last file closes.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
    rmdirSync(dir);
  };
  return { dir, mounted: true, why: '', unmount };
}

/**
 * Writes zeros to `file` until its file system is full. Throws after `maxMb` MiB without filling it: the
 * folder is not (or no longer) on the small tmpfs, and filling the real disk is not the test.
 */
export function fill(file: string, maxMb = 64): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (let mb = 0; mb < maxMb; mb++) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    return;
  } finally {
    closeSync(fd);
  }
  rmSync(file);
  throw new Error(`fill: ${file} took ${maxMb} MiB without the disk filling up: is its tmpfs still mounted?`);
}
