/** A twin circuit as the virtual SMU's device under test (`spikeloop virtual smu-… --dut circuit.json`). */
import { describe, expect, it } from 'vitest';
import { connectSmu } from '../../drivers/smu/connect.ts';
import { VirtualSmuServer } from '../../drivers/smu/virtual/server.ts';
import { defaultSmuDut, dutFromSpec, twinDut } from './smu-twin-dut.ts';
import { builtInCircuit } from '../twin/circuits/index.ts';

const divider = (ohms: number) => ({
  kind: 'netlist',
  elements: [
    { type: 'V', name: 'Vs', node: 'a', stimulus: true },
    { type: 'R', name: 'R1', a: 'a', b: '0', value: ohms },
  ],
});

it('drives a voltage-stimulus twin circuit, reads the current it delivers, and holds compliance', async () => {
  const server = await VirtualSmuServer.start('smu-2600b', { tcpPort: 0, dut: twinDut(divider(100)) });
  try {
    const smu = await connectSmu(server.addresses[0]);
    await smu.configure({ func: 'voltage', level: 0.05, compliance: 1e-3 });
    await smu.output(true);
    const r = await smu.read();
    expect(r.i).toBeCloseTo(0.05 / 100, 9); // 0.5 mA through 100 ohm
    await smu.setLevel(1); // would be 10 mA: held at the 1 mA limit
    const c = await smu.read();
    expect(c.i).toBeCloseTo(1e-3, 9);
    expect(c.v).toBeCloseTo(0.1, 3);
    await smu.output(false);
    await smu.close();
  } finally {
    await server.close();
  }
});

it('accepts the example network circuits and refuses a circuit without a stimulus', () => {
  const xbar = twinDut(builtInCircuit('crossbar'));
  expect(xbar.applyVoltage(0.5, 1e-3)).toBeGreaterThan(0);
  expect(() => twinDut({ kind: 'netlist', elements: [{ type: 'R', name: 'R', a: 'a', b: '0', value: 1 }] })).toThrow(/no stimulus element/);
});

describe('the default device: the hp-memristor circuit', () => {
  it('gives a pinched hysteresis loop: zero current at zero volts, two branches otherwise', () => {
    const m = defaultSmuDut();
    const f = 1; // Hz
    const n = 400;
    const vs: number[] = [];
    const is: number[] = [];
    for (let k = 0; k <= n; k++) {
      const v = Math.sin((2 * Math.PI * k) / n);
      vs.push(v);
      is.push(m.applyVoltage(v, 1 / f / n));
    }
    // pinched: |i| tiny where v crosses 0
    expect(Math.abs(is[n / 2])).toBeLessThan(1e-6);
    // hysteresis: at +0.5 V on the way up vs the way down, different currents
    const up = is[Math.round(n / 12)];
    const down = is[Math.round((5 * n) / 12)];
    expect(vs[Math.round(n / 12)]).toBeCloseTo(vs[Math.round((5 * n) / 12)], 9);
    expect(Math.abs(down - up) / Math.abs(up)).toBeGreaterThan(0.2);
  });
});

describe('--dut specs', () => {
  it('"memristor" is the hp-memristor circuit with the given parameters; peeks need no step first', () => {
    // R(w0) = rOn·w0 + rOff·(1 − w0): 200·0.5 + 8000·0.5 = 4100 Ω, read before any time has passed
    const m = dutFromSpec({ model: 'memristor', rOn: 200, rOff: 8000, w0: 0.5, k: 2e4 });
    expect(m.peekCurrent(1)).toBeCloseTo(1 / 4100, 12);
    expect(m.peekVoltage(1e-4)).toBeCloseTo(0.41, 9);
    expect(defaultSmuDut().peekCurrent(1)).toBeCloseTo(1 / (100 * 0.1 + 16e3 * 0.9), 12);
    // positive current drives w up (towards rOn): the resistance falls
    m.applyVoltage(1, 0.05);
    expect(m.peekCurrent(1)).toBeGreaterThan(1 / 4100);
  });

  it('holds the current at the limit in compliance (the dual drive) while the memristor switches', () => {
    const m = defaultSmuDut();
    for (let k = 0; k < 20; k++) expect(m.applyCurrent(1e-4, 0.01)).toBeGreaterThan(0);
    // the voltage needed for 0.1 mA falls as the state moves towards Ron; the current stays at the limit
    const v = m.applyCurrent(1e-4, 0.01);
    expect(m.peekCurrent(v)).toBeCloseTo(1e-4, 12);
    expect(v).toBeLessThan(1e-4 * (100 * 0.1 + 16e3 * 0.9));
  });

  it('a resistor spec is an ideal resistor; unknown models are refused', () => {
    expect(dutFromSpec({ model: 'resistor', ohms: 1e3 }).applyVoltage(2, 1)).toBe(2e-3);
    expect(() => dutFromSpec({ model: 'resistor', ohms: -1 })).toThrow(/ohms must be > 0/);
    expect(() => dutFromSpec({ model: 'diode' })).toThrow(/unknown device model "diode"/);
  });
});
