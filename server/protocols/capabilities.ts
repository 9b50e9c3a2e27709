/**
 * What the instruments spikeloop ships for can hold of a compiled protocol (compile.ts). A module of its
 * own, free of the protocol schemas, so the CLI shows these defaults in its help without loading them.
 */
import { INSTRUMENT_DEFAULTS } from '../../common/limits.ts';
import type { SmuCapabilities } from './kind.ts';

/** Keithley 2400 list sweep (common/limits.ts, also the bench configuration's defaults). */
export const SMU_DEFAULTS: SmuCapabilities = { ...INSTRUMENT_DEFAULTS.smu };

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

export const DAQ_DEFAULTS: DaqCapabilities = { ...INSTRUMENT_DEFAULTS.daq, maxFrequencyError: 1e-3 };
