/**
 * SMU runs play the compile.ts program: point values from the compiled point list at the point rate, refusals
 * naming the instrument capability (from the driver) before any output turns on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BlockMessage, SourceMessage } from '../common/run-stream.ts';
import { VirtualSmuServer } from '../drivers/smu/virtual/server.ts';
import { defaultSmuDut } from '../server/sources/smu-twin-dut.ts';
import { compileSmuProgram } from '../server/protocols/compile.ts';
import { validateProtocol } from '../server/protocols/index.ts';
import { createSmuSource, planSmuProgram, programLevels } from '../server/sources/smu-source.ts';

const servers: VirtualSmuServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
const limits = { maxVoltage: 2, maxCurrent: 1e-2, maxPower: 1e-2 };
const caps2400 = { maxPoints: 2500, minDwellS: 5e-4 };

async function collect(src: AsyncIterable<SourceMessage>) {
  const out: SourceMessage[] = [];
  for await (const m of src) out.push(m);
  return out;
}

describe('SMU program planning', () => {
  it('plays a ladder step by step at its breakpoints, each point the program value covering its time', () => {
    const p = validateProtocol({ kind: 'ladder', quantity: 'voltage', start: 0.1, stop: 0.5, steps: 3, dwellS: 0.05, restS: 0.03 });
    const program = planSmuProgram(p, caps2400, 100);
    expect(program).toEqual(compileSmuProgram(p, caps2400));
    const starts = new Float64Array(program.points.length);
    program.points.reduce((t, pt, k) => ((starts[k] = t), t + pt.dwellS), 0);
    const levels = programLevels(program, starts, 100, 0, Math.round(p.durationS * 100));
    // point k at k/100 s: the program value of the piece that covers it, independently from the pieces
    levels.forEach((v, k) => {
      const t = k / 100 + 1e-12;
      const j = program.points.findIndex((_, i) => starts[i] <= t && (i + 1 === starts.length || starts[i + 1] > t));
      expect(v).toBe(program.points[j].value);
    });
    expect(new Set(levels)).toEqual(new Set(program.points.map((pt) => pt.value)));
  });

  it('refuses a pulse shorter than one point at the point rate, naming minDwellS and the rate it needs', () => {
    const p = validateProtocol({ kind: 'pulse-train', quantity: 'voltage', amplitude: 1, baseline: 0, widthS: 0.002, periodS: 0.05, count: 4 });
    expect(() => planSmuProgram(p, caps2400, 100)).toThrow(/0\.002 s is shorter than one point at 100 points\/s.*at least 500 points\/s.*capability minDwellS/);
    expect(planSmuProgram(p, caps2400, 500).points.length).toBeGreaterThan(4);
  });

  it('refuses a program longer than the driver holds, naming maxPoints', () => {
    const p = validateProtocol({ kind: 'square', quantity: 'voltage', amplitude: 1, offset: 0, frequencyHz: 5, durationS: 300 });
    expect(() => planSmuProgram(p, caps2400, 100)).toThrow(/capability maxPoints/);
    expect(planSmuProgram(p, { maxPoints: 60_000, minDwellS: 1e-4 }, 100).points).toHaveLength(3000);
  });
});

describe('SMU source runs the compiled program', () => {
  it('refuses on a 2400 (capabilities from its driver) before the output turns on; a 2600B plays it', async () => {
    const k2400 = await VirtualSmuServer.start('smu-2400', { tcpPort: 0, dut: defaultSmuDut() });
    servers.push(k2400);
    const protocol = { kind: 'square', quantity: 'voltage', amplitude: 0.5, offset: 0, frequencyHz: 5, durationS: 300 };
    const refused = await collect(createSmuSource({ address: k2400.addresses[0], protocol, limits, compliance: 1e-3 }).messages(new AbortController().signal));
    expect(refused).toHaveLength(1);
    expect((refused[0] as { reason: string }).reason).toMatch(/3000 source points; the SMU holds 2500 \(instrument capability maxPoints\)/);
    expect(k2400.instrument.log.some((e) => /:OUTP (1|ON)/.test(e.line))).toBe(false);

    const k2600 = await VirtualSmuServer.start('smu-2600b', { tcpPort: 0, dut: defaultSmuDut() });
    servers.push(k2600);
    const ac = new AbortController();
    const msgs: SourceMessage[] = [];
    for await (const m of createSmuSource({ address: k2600.addresses[0], protocol, limits, compliance: 1e-3, pointRateHz: 100, chunkPoints: 25 }).messages(ac.signal)) {
      msgs.push(m);
      if (msgs.filter((x) => x.type === 'block').length === 6) ac.abort();
    }
    const stim = msgs.filter((m): m is BlockMessage => m.type === 'block' && m.channel === 0).flatMap((b) => Array.from(b.samples));
    // 5 Hz square at 100 points/s: 10 points at +0.5 V, 10 at 0 V, as measured by the instrument
    expect(stim.slice(0, 20).map((v) => Math.round(v * 10) / 10)).toEqual([...Array(10).fill(0.5), ...Array(10).fill(0)]);
    expect(k2600.instrument.channel.output).toBe(false);
  });
});
