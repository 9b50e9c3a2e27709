/**
 * Runs a Python script with Debian's /usr/bin/python3 (python3-numpy, python3-neo, python3-h5py from
 * scripts/setup.sh), as a lab's analysis would: the readers under test are those packages, not ours.
 */
import { execFile } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

export function python(script: string, args: string[] = [], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      ['-', ...args],
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`python failed: ${err.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
    child.stdin!.end(script);
  });
}

/** Runs a script that prints one JSON document and returns it parsed. */
export async function pythonJson<T = any>(script: string, args: string[] = [], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<T> {
  const { stdout } = await python(script, args, opts);
  return JSON.parse(stdout) as T;
}
