/**
 * A pseudo-terminal pair made by socat: two linked ports, so a virtual instrument can sit behind one
 * and any serial client (this project's, a lab's own script, a terminal) opens the other.
 * Killing the pair makes the port vanish (used to test a cable pulled mid-sweep).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface PtyPair {
  /** The link path a client opens. */
  readonly clientPath: string;
  /** The link path the instrument side opens. */
  readonly devicePath: string;
  readonly process: ChildProcess;
  /** Ends socat (the ports vanish) and waits for it to exit. */
  close(): Promise<void>;
}

export async function openPtyPair(clientPath: string, devicePath: string, timeoutMs = 5000): Promise<PtyPair> {
  const child = spawn(
    'socat',
    [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${clientPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  let exited = false;
  const exitP = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('error', (e) => (stderr += e.message));
  const t0 = Date.now();
  while (!(existsSync(clientPath) && existsSync(devicePath))) {
    if (exited || Date.now() - t0 > timeoutMs) {
      child.kill('SIGTERM');
      throw new Error(`socat could not create the pty pair ${clientPath} <-> ${devicePath}: ${stderr.trim() || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    clientPath,
    devicePath,
    process: child,
    async close() {
      if (!exited) child.kill('SIGTERM');
      await exitP;
    },
  };
}
