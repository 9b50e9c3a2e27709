/** A twin circuit as the virtual SMU's device under test (`spikeloop virtual smu-… --dut circuit.json`). */
import { expect, it } from 'vitest';
import { connectSmu } from '../../drivers/smu/connect.ts';
import { VirtualSmuServer } from '../../drivers/smu/virtual/server.ts';
import { twinDut } from './twin-dut.ts';
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
