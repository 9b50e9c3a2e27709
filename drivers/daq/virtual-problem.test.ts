/** Why the virtual board cannot run, in words that say what to install. */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { HARNESS, harnessLoadProblem, virtualBoardProblem } from './virtual.ts';

describe('virtual board availability', () => {
  it('a harness whose simavr library is missing is reported with the Debian package to install', () => {
    // glibc's loader message when libsimavr2 is not installed (a machine without simavr cannot be made here)
    const stderr = `${HARNESS}: error while loading shared libraries: libsimavr.so.2: cannot open shared object file: No such file or directory\n`;
    expect(harnessLoadProblem(stderr)).toMatch(/needs libsimavr\.so\.2: install the Debian package simavr/);
    expect(harnessLoadProblem('usage: virtual_board --elf FILE\n')).toBeUndefined();
  });

  it('on this machine (firmware built, simavr installed) the board is available', () => {
    expect(existsSync(HARNESS)).toBe(true);
    expect(virtualBoardProblem()).toBeUndefined();
  });
});
