/**
 * The device under test a virtual SMU drives. Two-terminal, stateful: the SMU applies a voltage (or a
 * current) for a time step and reads back the other quantity. `peek*` answer without advancing state
 * (used to decide whether the source goes into compliance).
 */
export interface DeviceUnderTest {
  /** Current (A) the device would draw at voltage v (V), state unchanged. */
  peekCurrent(v: number): number;
  /** Voltage (V) across the device at current i (A), state unchanged. */
  peekVoltage(i: number): number;
  /** Holds voltage v for dtS seconds; returns the current (A) at the end. */
  applyVoltage(v: number, dtS: number): number;
  /** Forces current i for dtS seconds; returns the voltage (V) at the end. */
  applyCurrent(i: number, dtS: number): number;
}

/** An ohmic resistor. */
export class Resistor implements DeviceUnderTest {
  constructor(readonly ohms: number) {
    if (!(ohms > 0)) throw new RangeError('resistance must be > 0');
  }
  peekCurrent(v: number): number {
    return v / this.ohms;
  }
  peekVoltage(i: number): number {
    return i * this.ohms;
  }
  applyVoltage(v: number): number {
    return v / this.ohms;
  }
  applyCurrent(i: number): number {
    return i * this.ohms;
  }
}

export interface MemristorParams {
  /** Fully-on resistance, Ω (default 100). */
  rOn?: number;
  /** Fully-off resistance, Ω (default 16 kΩ). */
  rOff?: number;
  /** Dopant mobility × R_on / D², 1/(A·s): the state rate per ampere (default 1e4). */
  k?: number;
  /** Initial state w ∈ [0, 1] (default 0.1). */
  w0?: number;
  /** Joglekar window exponent p (default 2). */
  p?: number;
}

/**
 * HP-style linear ion drift memristor (Strukov et al., Nature 453, 80 (2008)) with a Joglekar window
 * f(w) = 1 − (2w − 1)^{2p}: R(w) = R_on·w + R_off·(1 − w), dw/dt = k·i·f(w). Driven by a periodic
 * voltage it gives the pinched hysteresis loop of a memristor. Integrated with forward Euler in
 * sub-steps of at most 1 ms (and small enough in w).
 */
export class Memristor implements DeviceUnderTest {
  readonly rOn: number;
  readonly rOff: number;
  readonly k: number;
  readonly p: number;
  w: number;
  constructor(params: MemristorParams = {}) {
    this.rOn = params.rOn ?? 100;
    this.rOff = params.rOff ?? 16e3;
    this.k = params.k ?? 1e4;
    this.p = params.p ?? 2;
    this.w = params.w0 ?? 0.1;
    if (!(this.rOn > 0 && this.rOff > this.rOn)) throw new RangeError('need 0 < rOn < rOff');
    if (!(this.w >= 0 && this.w <= 1)) throw new RangeError('w0 must be in [0, 1]');
  }
  resistance(): number {
    return this.rOn * this.w + this.rOff * (1 - this.w);
  }
  peekCurrent(v: number): number {
    return v / this.resistance();
  }
  peekVoltage(i: number): number {
    return i * this.resistance();
  }
  private drift(currentOf: () => number, dtS: number): void {
    if (!(dtS > 0)) return;
    const steps = Math.min(10_000, Math.max(1, Math.ceil(dtS / 1e-3)));
    const h = dtS / steps;
    for (let s = 0; s < steps; s++) {
      const i = currentOf();
      const f = 1 - Math.pow(2 * this.w - 1, 2 * this.p);
      this.w = Math.min(1, Math.max(0, this.w + this.k * i * f * h));
    }
  }
  applyVoltage(v: number, dtS: number): number {
    this.drift(() => v / this.resistance(), dtS);
    return v / this.resistance();
  }
  applyCurrent(i: number, dtS: number): number {
    this.drift(() => i, dtS);
    return i * this.resistance();
  }
}

/** A DUT from a small JSON description: `{"model":"memristor", ...MemristorParams}` or `{"model":"resistor","ohms":1e4}`. */
export function dutFromJson(spec: unknown): DeviceUnderTest {
  const s = (spec ?? {}) as { model?: string; ohms?: number } & MemristorParams;
  if (s.model === 'resistor') return new Resistor(Number(s.ohms));
  if (s.model === undefined || s.model === 'memristor') return new Memristor(s);
  throw new Error(`unknown device model ${JSON.stringify(s.model)} (expected "memristor" or "resistor")`);
}
