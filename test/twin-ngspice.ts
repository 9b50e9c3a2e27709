/**
 * Test/bench helper (not a test): runs ngspice in batch mode on a `toSpice` netlist and reads the probes
 * back. Lives in test/ because it does I/O; server/twin stays pure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toSpice, type SpiceOptions } from '../server/twin/spice.ts';
import type { Netlist } from '../server/twin/circuit.ts';

export interface NgspiceResult {
  time: Float64Array;
  /** One column per probe of the netlist, in order. */
  columns: Float64Array[];
  /** Neuron one-shot outputs (1 during the refractory pulse), in neuron order. */
  triggers: Float64Array[];
  seconds: number;
}

export function runNgspice(net: Netlist, opts: Omit<SpiceOptions, 'outFile'>): NgspiceResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-ngspice-'));
  try {
    const out = path.join(dir, 'out.txt');
    const cir = path.join(dir, 'circuit.cir');
    writeFileSync(cir, toSpice(net, { ...opts, outFile: out }));
    const t0 = process.hrtime.bigint();
    const r = spawnSync('ngspice', ['-b', cir], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`ngspice failed (${r.status}): ${r.stderr}\n${r.stdout.slice(-2000)}`);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const rows = lines.slice(1).map((l) => l.trim().split(/\s+/).map(Number));
    const ncol = rows[0].length;
    const cols = Array.from({ length: ncol }, (_, c) => Float64Array.from(rows, (row) => row[c]));
    const np = net.outputs.length;
    return { time: cols[0], columns: cols.slice(1, 1 + np), triggers: cols.slice(1 + np), seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** NRMSE = RMS(a − b) / (max(b) − min(b)) over the common length; b is the reference. */
export function nrmse(a: Float64Array, b: Float64Array): number {
  const n = Math.min(a.length, b.length);
  let s = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    s += (a[i] - b[i]) ** 2;
    lo = Math.min(lo, b[i]);
    hi = Math.max(hi, b[i]);
  }
  const range = hi - lo;
  return Math.sqrt(s / n) / (range > 0 ? range : 1);
}

/** Sample indices where a one-shot trigger column rises through 0.5. */
export function risingEdges(x: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0.5 && x[i] >= 0.5) out.push(i);
  return out;
}
