/**
 * What an instrument can hold of a compiled protocol (compile.ts), with the defaults of the instruments
 * spikeloop ships for. A module of its own, free of the protocol schemas, so the CLI can show the defaults
 * in its help without loading them.
 */

export interface SmuCapabilities {
  /** Longest point list the instrument stores. */
  maxPoints: number;
  /** Shortest time the instrument can hold a point, s. */
  minDwellS: number;
}

/** Keithley 2400 list sweep: 2,500 points; about 0.5 ms per point at the fastest settings. */
export const SMU_DEFAULTS: SmuCapabilities = { maxPoints: 2500, minDwellS: 5e-4 };

export interface DaqCapabilities {
  /** Output samples per second. */
  sampleRate: number;
  /** Total samples across all tables the board holds. */
  maxTableLength: number;
  /** Longest segment list. */
  maxSegments: number;
  /** Output range of the board's DAC, in the protocol's unit (optional). */
  outputRange?: { min: number; max: number };
  /** Largest relative frequency error accepted when a period is rounded to whole samples. */
  maxFrequencyError?: number;
}

export const DAQ_DEFAULTS: DaqCapabilities = { sampleRate: 10_000, maxTableLength: 4096, maxSegments: 256, maxFrequencyError: 1e-3 };
