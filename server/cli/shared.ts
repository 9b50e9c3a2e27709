/** Small helpers shared by the CLI command files (defaults, option parsing, progress bars). */
import type { TSchema } from 'typebox';
import type { RunDetail, RunProgress } from '../../common/schemas/runs.ts';
import type { RunManager } from '../runs/run-manager.ts';
import { InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Default database file, relative to the working directory. */
export const DEFAULT_DB = './data/spikeloop.db';

/** Creates the database file's folder when it does not exist. */
export function ensureDbDir(file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
}

/** commander argument parser for numbers within [min, max]. */
export function numberIn(name: string, min: number, max: number, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
    }
    return n;
  };
}

/** commander argument parser for a number whose range the request's schema checks (checkRequest). */
export function aNumber(name: string) {
  return numberIn(name, -Number.MAX_VALUE, Number.MAX_VALUE);
}

/** A progress bar on stderr when stderr is a terminal; otherwise a no-op with the same methods. */
export function progressBar(total: number, format: string): { update(v: number, payload?: object): void; setTotal(total: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, setTotal() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (v, payload) => bar.update(v, payload), setTotal: (t) => bar.setTotal(t), stop: () => bar.stop() };
}

/**
 * Follows a long job (a run, a sweep) to its end: a progress bar on stderr polled every 200 ms (`at`: the
 * bar's value and payload now), and Ctrl-C / SIGTERM calling `stop`, so the job ends cleanly and its
 * summary is still printed. Resolves to what `end` resolves to.
 */
export async function follow<T>(job: {
  total: number;
  format: string;
  at(): [number, object?] | undefined;
  stop(): void;
  end: Promise<T>;
  last(result: T): [number, object?];
}): Promise<T> {
  const onSignal = () => job.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = progressBar(job.total, job.format);
  const tick = setInterval(() => {
    const at = job.at();
    if (at) bar.update(...at);
  }, 200);
  try {
    const result = await job.end;
    bar.update(...job.last(result));
    return result;
  } finally {
    clearInterval(tick);
    bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Follows run `id` to its end with `follow`: the bar shows `value` of the run manager's progress out of
 * `total` and ends at `last`; Ctrl-C stops the run. Resolves to the stored run once it has ended, with
 * the head of the summary line the commands print (`head`: id, status, reason).
 */
export async function followRun(
  runs: RunManager,
  id: number,
  bar: { total: number; format: string; value(p: RunProgress): [number, object?]; last: [number, object?] },
): Promise<{ run: RunDetail; head: Pick<RunDetail, 'id' | 'status' | 'reason'> }> {
  await follow({
    total: bar.total,
    format: bar.format,
    at: () => {
      const p = runs.progress(id);
      return p && bar.value(p);
    },
    stop: () => void runs.stop(id, 'interrupted from the command line'),
    end: runs.waitForEnd(id),
    last: () => bar.last,
  });
  const run = runs.store.getRun(id)!;
  return { run, head: { id: run.id, status: run.status, reason: run.reason } };
}

/**
 * Checks a request the CLI built from its arguments against the API's schema for the same request
 * (common/schemas), so the CLI and the API refuse the same mistakes in the same words; the message names
 * the flag or argument at fault (`flags`: first segment of the JSON pointer → flag). Throws AppError VALIDATION.
 */
export async function checkRequest(schema: TSchema, request: unknown, flags: Record<string, string>): Promise<void> {
  const [{ firstProblem }, { AppError }] = await Promise.all([import('../../common/schema-check.ts'), import('../../common/errors.ts')]);
  const problem = firstProblem(schema, request);
  if (!problem) return;
  const [, top = '', ...rest] = problem.path.split('/');
  const flag = flags[top] ?? (top || 'input');
  throw new AppError('VALIDATION', `${flag}${rest.length ? ` ${rest.join('.')}` : ''}: ${problem.message}`, problem.path);
}

/** A circuit argument: the name of a built-in circuit (server/twin/circuits) or a circuit JSON file. */
export async function readCircuitArg(arg: string, option: string): Promise<unknown> {
  const { builtInCircuit } = await import('../twin/circuits/index.ts');
  const builtIn = builtInCircuit(arg);
  if (builtIn !== undefined) return builtIn;
  try {
    return JSON.parse(readFileSync(arg, 'utf8'));
  } catch (err) {
    throw new Error(`${option} ${arg}: not a built-in circuit nor a readable circuit JSON file (${(err as Error).message})`);
  }
}
