/**
 * The one-writer lock: `<file>.lock` holds the writing process's pid. A lock left by a dead process is
 * taken over; a second open in the same process is refused without touching the file.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from './errors.ts';

const openFiles = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `file`; returns the lock file's path. Throws STORE_LOCKED when a live writer holds it. */
export function acquireLock(file: string): string {
  const lock = `${file}.lock`;
  const key = path.resolve(file);
  if (openFiles.has(key)) throw new StoreError('STORE_LOCKED', `${file} is already open for writing in this process`);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      openFiles.add(key);
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new StoreError('STORE_LOCKED', `${file} is open for writing by process ${pid} (lock ${lock}): one writer at a time; while a server has it, record through its API (POST /api/runs) or give another --db`);
      }
      rmSync(lock, { force: true });
    }
  }
}

export function releaseLock(file: string, lock: string): void {
  rmSync(lock, { force: true });
  openFiles.delete(path.resolve(file));
}
