/**
 * Faults injected for real on the emulated board: a corrupting/dropping/duplicating byte proxy between two
 * ptys, a board reset mid-run, the port vanishing mid-run, the host going silent. The host records gaps and
 * errors, never crashes, and every sample it does deliver is right for its index.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceMessage } from '../common/run-stream.ts';
import { DaqRun } from '../drivers/daq/source.ts';
import { VirtualBoard } from '../drivers/daq/virtual.ts';
import { FaultProxy, adcCode, collect, samplesByIndex, stimMv } from './daq-helpers.ts';

const codes = Array.from({ length: 200 }, (_, i) => Math.round(127.5 + 127.5 * Math.sin((2 * Math.PI * i) / 200)));

/** Every delivered tick: a0 is what the direct circuit makes of the stimulus recorded at that index. */
function checkConsistent(msgs: SourceMessage[]) {
  const stim = samplesByIndex(msgs, 0);
  const a0 = samplesByIndex(msgs, 1);
  let bad = 0;
  for (const [i, s] of stim) if (a0.get(i) !== adcCode(stimMv(s))) bad++;
  expect(a0.size).toBe(stim.size);
  expect(bad).toBe(0);
  return stim.size;
}

const faults = (msgs: SourceMessage[]) => msgs.filter((m) => m.type === 'event' && m.kind === 'fault').map((m) => (m.type === 'event' ? m.label ?? '' : ''));

describe('DAQ faults on the emulated board', () => {
  let vb: VirtualBoard;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-daq-'));
    vb = await VirtualBoard.start({ link: path.join(dir, 'ttyACM0'), circuit: { kind: 'direct' } });
  });
  afterAll(async () => {
    await vb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a corrupting, dropping, duplicating link: gaps recorded, CRC errors counted, delivered data exact', async () => {
    const proxy = await FaultProxy.start(vb.path, dir, { corrupt: 2e-4, drop: 1e-4, duplicate: 1e-4 });
    try {
      const run = new DaqRun({ path: proxy.hostPath, channels: [0], rate: 5000, stimulus: { codes, loop: true }, durationSamples: 15_000 });
      const msgs = await collect(run);
      expect(msgs.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
      const delivered = checkConsistent(msgs);
      expect(proxy.counts.corrupted + proxy.counts.dropped + proxy.counts.duplicated).toBeGreaterThan(0);
      expect(run.stats.crcErrors + run.stats.framingErrors).toBeGreaterThan(0);
      expect(run.stats.droppedTicks).toBeGreaterThan(0);
      expect(delivered + run.stats.droppedTicks).toBe(15_000);
      expect(faults(msgs).some((l) => l.startsWith('dropped samples'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a board reset mid-run: the run resumes after a recorded gap', async () => {
    const ac = new AbortController();
    let resetDone = false;
    const run = new DaqRun({ path: vb.path, channels: [0], rate: 5000, stimulus: { codes, loop: true }, durationSamples: 12_000 });
    const msgs: SourceMessage[] = [];
    for await (const m of run.messages(ac.signal)) {
      msgs.push(m);
      if (!resetDone && m.type === 'block' && m.firstIndex > 3000) {
        resetDone = true;
        vb.reset();
      }
    }
    expect(msgs.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
    expect(faults(msgs).some((l) => /reset during the run.*lost/.test(l))).toBe(true);
    expect(run.stats.reconnects).toBe(1);
    checkConsistent(msgs);
  });

  it('the port vanishing mid-run: policy gap reconnects, policy fail ends the run failed with the reason', async () => {
    for (const policy of ['gap', 'fail'] as const) {
      let unplugged = false;
      const run = new DaqRun({
        path: vb.path,
        channels: [0],
        rate: 5000,
        stimulus: { codes, loop: true },
        durationSamples: 10_000,
        onDisconnect: policy,
        reconnect: { initialDelayMs: 300 },
      });
      const msgs: SourceMessage[] = [];
      for await (const m of run.messages(new AbortController().signal)) {
        msgs.push(m);
        if (!unplugged && m.type === 'block' && m.firstIndex > 2000) {
          unplugged = true;
          vb.unplug(200);
        }
      }
      const committed = checkConsistent(msgs);
      expect(committed).toBeGreaterThan(2000); // nothing already delivered is lost
      if (policy === 'gap') {
        expect(msgs.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
        expect(run.stats.reconnects).toBe(1);
      } else {
        const stop = msgs.at(-1);
        expect(stop).toMatchObject({ type: 'stop', status: 'failed' });
        expect(stop?.type === 'stop' && stop.reason).toMatch(/disappeared|closed/);
        await vb.waitFor((e) => e.kind === 'pty', 5000, vb.events.length - 1);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(faults(msgs).some((l) => /disappeared|closed/.test(l))).toBe(true);
    }
  });

  it('the host going silent: the firmware zeroes its outputs within 250 ms of emulated time', async () => {
    const ac = new AbortController();
    const errors: string[] = [];
    const since = vb.events.length;
    const run = new DaqRun({
      path: vb.path,
      channels: [0],
      rate: 2000,
      stimulus: { codes, loop: true },
      onBoard: (board) => {
        board.on('boardError', (e) => errors.push(e.name));
        setTimeout(() => (board.heartbeatPaused = true), 300);
      },
    });
    const done = collect(run, ac.signal);
    const on = await vb.waitFor((e) => e.kind === 'outputs' && e.fields._ === 'on', 10_000, since);
    const off = await vb.waitFor((e) => e.kind === 'outputs' && e.fields._ === 'off', 10_000, vb.events.indexOf(on) + 1);
    const silentNs = Number(off.fields.t_ns) - Number(off.fields.last_rx_ns);
    expect(silentNs).toBeGreaterThan(200e6);
    expect(silentNs).toBeLessThanOrEqual(250e6);
    for (let i = 0; i < 50 && !errors.includes('watchdog'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors).toContain('watchdog');
    ac.abort();
    await done;
  });

  it('a host stalled for 800 ms (its event loop blocked): emulated time waits for it, no watchdog, no tick lost; with the wait off the watchdog fires', async () => {
    /** A 2 s run at 2 kS/s whose host blocks its event loop for 800 ms of wall time half a second in. */
    async function stalledRun(board: VirtualBoard) {
      const errors: string[] = [];
      const run = new DaqRun({
        path: board.path,
        channels: [0],
        rate: 2000,
        recordStimulus: true,
        stimulus: { codes, loop: true },
        durationSamples: 4000,
        onDisconnect: 'fail',
        onBoard: (b) => {
          b.on('boardError', (e) => errors.push(e.name));
          setTimeout(() => {
            const until = Date.now() + 800;
            while (Date.now() < until); // the host process starved: nothing sent, nothing read
          }, 500);
        },
      });
      return { msgs: await collect(run), errors, run };
    }
    const held = await stalledRun(vb);
    expect(held.errors).toEqual([]);
    expect(faults(held.msgs)).toEqual([]);
    expect(held.msgs.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
    expect(checkConsistent(held.msgs)).toBe(4000);
    expect(held.run.stats.droppedTicks).toBe(0);

    const free = await VirtualBoard.start({ circuit: { kind: 'direct' }, hostWaitMs: 0 });
    try {
      const lost = await stalledRun(free);
      expect(lost.errors).toContain('watchdog');
    } finally {
      await free.close();
    }
  });

  it('an emulator starved for 2 s while the host waits for a reply: the reply timeouts run on emulated time, the run completes', async () => {
    let frozen: Promise<void> | undefined;
    const run = new DaqRun({
      path: vb.path,
      channels: [0],
      rate: 2000,
      recordStimulus: true,
      stimulus: { codes, loop: true },
      durationSamples: 2000,
      onDisconnect: 'fail',
      onBoard: () => {
        frozen ??= vb.freeze(2000); // the HELLO goes out to a stopped emulator: 4 tries x 400 ms of wall time would fail
      },
    });
    const msgs = await collect(run);
    await frozen;
    expect(faults(msgs)).toEqual([]);
    expect(msgs.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
    expect(checkConsistent(msgs)).toBe(2000);
  });
});
