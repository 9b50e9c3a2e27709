/**
 * A twin circuit (server/twin) as the device under test of a virtual SMU (`spikeloop virtual smu-… --dut
 * circuit.json`). The SMU drives the circuit's stimulus element: a voltage-stimulus circuit (grounded `V`
 * source with `"stimulus": true`) when the SMU sources voltage — the current read back is the current that
 * source delivers; a current-stimulus circuit (`I` source) when it sources current — the voltage read back is
 * v(b) − v(a) across the source.
 *
 * Compliance needs the other quantity without advancing the circuit (`peek*`) and, when the limit is hit,
 * the dual drive. The twin steps only its own stimulus quantity, so both use the small-signal conductance
 * seen at the last step (i/v), i.e. the compliance behaviour is approximate for strongly nonlinear circuits.
 */
import type { DeviceUnderTest } from '../../drivers/smu/virtual/dut.ts';
import { createTwin, expandCircuit } from '../twin/index.ts';

export function twinDut(circuitJson: unknown): DeviceUnderTest {
  const net = expandCircuit(circuitJson);
  const stim = net.elements.find((e) => (e.type === 'V' || e.type === 'I') && e.stimulus);
  if (!stim) throw new Error(`circuit ${net.name} has no stimulus element (a V or I source with "stimulus": true)`);
  const name = stim.name;
  if (!name) throw new Error(`circuit ${net.name}: the stimulus element needs a name`);
  const tw = createTwin(net, { method: 'adaptive', dt: 1e-4 });
  const voltageDriven = stim.type === 'V';
  let g = 1e-6; // last seen conductance i/v (S), for peeks and the dual drive
  const step = (u: number, dtS: number): number => {
    tw.setInput(u);
    if (dtS > 0) tw.advance(dtS);
    if (voltageDriven) return tw.read({ name: 'i', kind: 'i', element: name });
    const s = stim as { a: string; b: string };
    return tw.voltage(s.b) - tw.voltage(s.a);
  };
  const learn = (v: number, i: number) => {
    if (Math.abs(v) > 1e-9 && Number.isFinite(i / v) && i / v > 0) g = i / v;
  };
  return {
    peekCurrent: (v) => v * g,
    peekVoltage: (i) => i / g,
    applyVoltage(v, dtS) {
      if (voltageDriven) {
        const i = step(v, dtS);
        learn(v, i);
        return i;
      }
      const vOut = step(v * g, dtS); // current-driven circuit held near v
      learn(vOut, v * g);
      return v * g;
    },
    applyCurrent(i, dtS) {
      if (!voltageDriven) {
        const v = step(i, dtS);
        learn(v, i);
        return v;
      }
      const v = i / g; // voltage-driven circuit held near the current limit
      const iOut = step(v, dtS);
      learn(v, iOut);
      return v;
    },
  };
}
