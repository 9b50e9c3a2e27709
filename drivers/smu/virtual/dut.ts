/**
 * The device under test a virtual SMU drives. Two-terminal, stateful: the SMU applies a voltage (or a
 * current) for a time step and reads back the other quantity. `peek*` answer without advancing state
 * (used to decide whether the source goes into compliance). The server side supplies the device: a
 * digital-twin circuit (server/sources/smu-twin-dut.ts; by default the `hp-memristor` circuit), so the
 * drivers hold no device model of their own beyond the ideal resistor below.
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
