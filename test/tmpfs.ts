/** A small real file system for the disk-full tests: a tmpfs mounted for the test file (root only). */
import { execFileSync } from 'node:child_process';
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

/** Mounts a tmpfs of `sizeMb` MiB on a new temporary folder, when root and the container allows it. */
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
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    execFileSync('umount', [dir]);
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
