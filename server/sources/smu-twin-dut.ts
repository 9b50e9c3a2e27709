/**
 * A twin circuit (server/twin) as the device under test of a virtual SMU: the implementation of the
 * drivers' `DeviceUnderTest` interface (drivers/smu/virtual/dut.ts) that the server side injects. The
 * virtual SMUs' default device is the `hp-memristor` circuit (one HP memristor); `spikeloop virtual smu-…
 * --dut circuit.json` takes any circuit.
 *
 * The SMU drives the circuit's stimulus element: a voltage-stimulus circuit (grounded `V` source with
 * `"stimulus": true`) reads back the current that source delivers; a current-stimulus circuit (`I` source)
 * the voltage v(b) − v(a) across the source. A peek sets the stimulus and reads the circuit at its present
 * state and time (node capacitors hold their charge), without advancing it. When the source is in
 * compliance it holds the other quantity (the dual drive): the circuit's own stimulus is solved from peeks
 * (secant iteration) so that the held quantity is met, again at every sub-interval of at most 1 ms.
 */
import { Resistor, type DeviceUnderTest } from '../../drivers/smu/virtual/dut.ts';
import { builtInCircuit } from '../twin/circuits/index.ts';
import { createTwin, expandCircuit, getModel } from '../twin/index.ts';
import { AppError } from '../../common/errors.ts';

/** Longest interval the dual drive holds one stimulus value for, s. */
const DUAL_STEP_S = 1e-3;

export interface TwinDutOptions {
  /** Largest step of the twin's adaptive integrator, s (default 1e-4). */
  dt?: number;
}

export function twinDut(circuitJson: unknown, opts: TwinDutOptions = {}): DeviceUnderTest {
  const net = expandCircuit(circuitJson);
  const stim = net.elements.find((e) => (e.type === 'V' || e.type === 'I') && e.stimulus);
  if (!stim) throw new AppError('BAD_CIRCUIT', `circuit ${net.name} has no stimulus element (a V or I source with "stimulus": true)`);
  const name = stim.name;
  if (!name) throw new AppError('BAD_CIRCUIT', `circuit ${net.name}: the stimulus element needs a name`);
  const tw = createTwin(net, { method: 'adaptive', dt: opts.dt ?? 1e-4 });
  const voltageDriven = stim.type === 'V';
  const probe = { name: 'i', kind: 'i' as const, element: name };
  const ends = stim as { a: string; b: string };
  /** The read-back quantity (current of a V source, voltage across an I source) at stimulus u, now. */
  const peek = (u: number): number => {
    tw.setInput(u);
    return voltageDriven ? tw.read(probe) : tw.voltage(ends.b) - tw.voltage(ends.a);
  };
  /** Holds stimulus u for dtS seconds; the read-back quantity at the end. */
  const hold = (u: number, dtS: number): number => {
    tw.setInput(u);
    if (dtS > 0) tw.advance(dtS);
    return voltageDriven ? tw.read(probe) : tw.voltage(ends.b) - tw.voltage(ends.a);
  };
  /** The stimulus whose read-back quantity is `target` at the present state (secant iteration on peeks). */
  const solve = (target: number): number => {
    let xa = 0, fa = peek(0) - target;
    const d = voltageDriven ? 1e-3 : 1e-6; // a small step of the stimulus quantity (V or A)
    const slope = (peek(d) - peek(0)) / d;
    let xb = slope !== 0 && Number.isFinite(slope) ? -fa / slope : d;
    let fb = peek(xb) - target;
    for (let k = 0; k < 50 && fb !== 0 && fb !== fa && Math.abs(fb) > 1e-12 * Math.abs(target); k++) {
      const xc = xb - (fb * (xb - xa)) / (fb - fa);
      ((xa = xb), (fa = fb), (xb = xc));
      fb = peek(xb) - target;
    }
    return xb;
  };
  /** Dual drive: the read-back quantity held at `target` for dtS; the stimulus it took at the end. */
  const dual = (target: number, dtS: number): number => {
    const n = Math.min(10_000, Math.max(1, Math.ceil(dtS / DUAL_STEP_S)));
    let u = solve(target);
    for (let s = 0; s < n && dtS > 0; s++) {
      hold(u, dtS / n);
      u = solve(target);
    }
    tw.setInput(u);
    return u;
  };
  return {
    peekCurrent: (v) => (voltageDriven ? peek(v) : solve(v)),
    peekVoltage: (i) => (voltageDriven ? solve(i) : peek(i)),
    applyVoltage: (v, dtS) => (voltageDriven ? hold(v, dtS) : dual(v, dtS)),
    applyCurrent: (i, dtS) => (voltageDriven ? dual(i, dtS) : hold(i, dtS)),
  };
}

/** The virtual SMUs' default device under test: the `hp-memristor` twin circuit. */
export function defaultSmuDut(): DeviceUnderTest {
  return twinDut(builtInCircuit('hp-memristor'), { dt: 1e-3 });
}

/**
 * A device under test from `--dut` JSON: `{"model":"resistor","ohms":…}` (an ideal resistor), `{"model":
 * "memristor", rOn?, rOff?, k?, w0?, p?}` (the hp-memristor circuit with these parameters), or any twin
 * circuit document.
 */
export function dutFromSpec(spec: unknown): DeviceUnderTest {
  const s = (spec ?? {}) as Record<string, unknown>;
  if (!('model' in s)) return twinDut(spec);
  if (s.model === 'resistor') {
    const ohms = Number(s.ohms);
    if (!(ohms > 0)) throw new AppError('BAD_CIRCUIT', 'resistor DUT: ohms must be > 0', '/ohms');
    return new Resistor(ohms);
  }
  if (s.model !== 'memristor') throw new AppError('BAD_CIRCUIT', `unknown device model ${JSON.stringify(s.model)} (expected "memristor" or "resistor", or a twin circuit)`, '/model');
  const circuit = builtInCircuit('hp-memristor') as unknown as { elements: { type: string; params?: Record<string, number>; x0?: number }[] };
  const m = circuit.elements.find((e) => e.type === 'device')!;
  const num = (k: string): number | undefined => (s[k] === undefined ? undefined : Number(s[k]));
  const Ron = num('rOn'), Roff = num('rOff'), k = num('k'), w0 = num('w0'), p = num('p');
  // the twin's HP model takes mu_v and D: k = mu_v·Ron/D² at its default D
  const hp = getModel('hp').defaults;
  const D = hp.D, ron = Ron ?? hp.Ron;
  m.params = { ...(Ron !== undefined ? { Ron } : {}), ...(Roff !== undefined ? { Roff } : {}), ...(p !== undefined ? { p } : {}), ...(k !== undefined ? { mu: (k * D * D) / ron } : {}) };
  if (w0 !== undefined) m.x0 = w0;
  return twinDut(circuit, { dt: 1e-3 });
}
