/**
 * Request limits shared by the API schemas (common/schemas), the run manager and the CLI's option help.
 * No imports, so the CLI's `--help` stays fast.
 */

/** Default and maximum sample rate per channel of a run, S/s. */
export const DEFAULT_SAMPLE_RATE = 100_000;
export const MAX_SAMPLE_RATE = 2_000_000;
/** A twin run computes rather than measures: it may sample faster than any bench source. */
export const TWIN_MAX_SAMPLE_RATE = 10_000_000;

/**
 * What an instrument holds when the configuration names nothing: Keithley 2400 list sweep (2,500 points,
 * about 0.5 ms per point at the fastest settings); an Arduino Uno running the spikeloop firmware.
 */
export const INSTRUMENT_DEFAULTS = {
  smu: { maxPoints: 2500, minDwellS: 5e-4 },
  daq: { sampleRate: 10_000, maxTableLength: 4096, maxSegments: 256 },
} as const;

/**
 * Characters of an export's `_about.json` that `POST /api/import` takes in its `sidecar` query field (it must fit
 * a URL; its spikeloop_export, format, raw and channels suffice, about 400 characters a channel).
 */
export const MAX_SIDECAR_CHARS = 8000;
