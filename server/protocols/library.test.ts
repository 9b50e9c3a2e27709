import { describe, expect, it } from 'vitest';
import {
  ProtocolError,
  parseWaveformCsv,
  protocolSegments,
  protocolSummary,
  sampleStimulus,
  stimulusAt,
  validateProtocol,
  type Protocol,
} from './index.ts';
import { expandSweep, sweepSummary } from './sweep.ts';
import { CompileError, compileDaqProgram, compileSmuProgram, daqSampleAt, programExtremes } from './compile.ts';

const extremes = (p: Protocol, rate: number) => {
  const s = sampleStimulus(p, rate, 0, Math.round(p.durationS * rate));
  let min = Infinity;
  let max = -Infinity;
  for (const v of s) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max, s };
};

describe('chirp', () => {
  it('log chirp: instantaneous frequency goes from startHz to stopHz (zero crossings)', () => {
    const p = validateProtocol({ kind: 'chirp', startHz: 10, stopHz: 1000, durationS: 2, sweep: 'log', amplitude: 1 });
    const rate = 200_000;
    const { s } = extremes(p, rate);
    // count rising zero crossings in the first and last 0.1 s
    const crossings = (a: number, b: number) => {
      let n = 0;
      for (let i = Math.round(a * rate) + 1; i < Math.round(b * rate); i++) if (s[i - 1] < 0 && s[i] >= 0) n++;
      return n;
    };
    // log sweep: f(t) = 10 * 100^(t/2): mean over [0, 0.1] ≈ 12.2 Hz, over [1.9, 2] ≈ 890 Hz
    const f0 = 10, k = 100, T = 2;
    const cycles = (a: number, b: number) => ((f0 * T) / Math.log(k)) * (Math.pow(k, b / T) - Math.pow(k, a / T));
    expect(Math.abs(crossings(0, 0.1) - cycles(0, 0.1))).toBeLessThanOrEqual(1);
    expect(Math.abs(crossings(1.9, 2) - cycles(1.9, 2))).toBeLessThanOrEqual(1);
  });

  it('linear chirp has a quadratic phase; summary states the peaks', () => {
    const p = validateProtocol({ kind: 'chirp', startHz: 1, stopHz: 3, durationS: 1, sweep: 'linear', amplitude: 2, offset: 1 });
    const t = 0.3;
    expect(stimulusAt(p, t)).toBeCloseTo(1 + 2 * Math.sin(2 * Math.PI * (1 * t + (2 * t * t) / 2)), 12);
    expect(protocolSummary(p)).toMatchObject({ min: -1, max: 3, unit: 'V', durationS: 1 });
  });
});

describe('I-V sweep', () => {
  it('bipolar triangle: 0 → +peak → 0 → −negativePeak → 0, repeated; duration = cycles × period', () => {
    const p = validateProtocol({ kind: 'iv-sweep', peak: 2, negativePeak: 1, periodS: 1, cycles: 3 });
    expect(p.durationS).toBe(3);
    expect([0, 0.25, 0.5, 0.75, 1.25, 2.75].map((t) => stimulusAt(p, t))).toEqual([0, 2, 0, -1, 2, -1]);
    expect(stimulusAt(p, 0.125)).toBeCloseTo(1, 12);
    expect(protocolSummary(p)).toMatchObject({ quantity: 'voltage', min: -1, max: 2, durationS: 3 });
  });

  it('unipolar and a run longer than the loops (0 after the end)', () => {
    const p = validateProtocol({ kind: 'iv-sweep', peak: 1, bipolar: false, periodS: 2, cycles: 1, durationS: 5 });
    expect([0.5, 1, 1.5, 3].map((t) => stimulusAt(p, t))).toEqual([0.5, 1, 0.5, 0]);
    expect(protocolSummary(p)).toMatchObject({ min: 0, max: 1, durationS: 5 });
  });

  it('compiles to an SMU staircase hitting the vertices', () => {
    const p = validateProtocol({ kind: 'iv-sweep', peak: 1, periodS: 0.4, cycles: 2, stepsPerBranch: 10 });
    const prog = compileSmuProgram(p);
    expect(prog.points).toHaveLength(80);
    expect(prog.points[10].value).toBe(1);
    expect(prog.points[30].value).toBe(-1);
    expect(prog.points.reduce((s, q) => s + q.dwellS, 0)).toBeCloseTo(0.8, 12);
  });
});

describe('ladder', () => {
  it('steps from start to stop, with rest at 0, and names its steps', () => {
    const p = validateProtocol({ kind: 'ladder', start: 1, stop: 4, steps: 4, dwellS: 0.5, restS: 0.25 });
    expect(p.durationS).toBe(3);
    expect([0.1, 0.6, 0.8, 2.3].map((t) => stimulusAt(p, t))).toEqual([1, 0, 2, 4]);
    expect(protocolSummary(p)).toMatchObject({ min: 0, max: 4 });
    expect(protocolSegments(p).map((s) => [s.startS, s.endS, s.value])).toEqual([
      [0, 0.5, 1],
      [0.75, 1.25, 2],
      [1.5, 2, 3],
      [2.25, 2.75, 4],
    ]);
  });

  it('explicit levels override the range; compiles exactly to SMU points and a DAQ segment list', () => {
    const p = validateProtocol({ kind: 'ladder', levels: [0.5, -1, 3], dwellS: 0.1 });
    expect(protocolSummary(p)).toMatchObject({ min: -1, max: 3, durationS: expect.closeTo(0.3, 12) });
    const smu = compileSmuProgram(p);
    expect(smu.points.map((q) => q.value)).toEqual([0.5, -1, 3]);
    const daq = compileDaqProgram(p, { sampleRate: 1000, maxTableLength: 16, maxSegments: 8 });
    expect(daq.segments.map((s) => s.samples)).toEqual([100, 100, 100]);
    expect(daqSampleAt(daq, 150)).toBe(-1);
  });
});

describe('STDP pairing', () => {
  const doc = {
    kind: 'stdp',
    preAmplitude: 1,
    postAmplitude: 0.8,
    pulseWidthS: 1e-3,
    offsetsS: [2e-3, -0.5e-3],
    pairsPerOffset: 2,
    pairPeriodS: 10e-3,
    readAmplitude: 0.1,
    readWidthS: 2e-3,
    gapS: 1e-3,
  };

  it('reads, pairs at each offset, reads again; overlapping pulses add', () => {
    const p = validateProtocol(doc);
    if (p.kind !== 'stdp') throw new Error('kind');
    const block = 3 * 1e-3 + 2 * 2e-3 + 2 * 10e-3;
    expect(p.durationS).toBeCloseTo(2 * block, 12);
    expect(stimulusAt(p, 1.5e-3)).toBe(0.1); // read before
    const pair0 = 2e-3 + 2e-3; // gap + read + gap
    expect(stimulusAt(p, pair0 + 0.5e-3)).toBe(1); // pre
    expect(stimulusAt(p, pair0 + 2.5e-3)).toBe(-0.8); // post 2 ms later
    expect(stimulusAt(p, pair0 + 10e-3 + 0.5e-3)).toBe(1); // second pairing
    // second block, Δt = −0.5 ms: post first, overlapping the pre for 0.5 ms
    const pair1 = block + pair0;
    expect(stimulusAt(p, pair1 + 0.25e-3)).toBe(-0.8);
    expect(stimulusAt(p, pair1 + 0.75e-3)).toBeCloseTo(0.2, 12);
    expect(stimulusAt(p, pair1 + 1.25e-3)).toBe(1);
    const s = protocolSummary(p);
    expect([s.min, s.max]).toEqual([-0.8, 1]);
    expect(protocolSegments(p).filter((g) => g.label.startsWith('read')).map((g) => g.value)).toEqual([2e-3, 2e-3, -0.5e-3, -0.5e-3]);
  });

  it('sampled extremes match the summary; DAQ program reproduces the samples', () => {
    const p = validateProtocol(doc);
    const rate = 20_000;
    const { min, max, s } = extremes(p, rate);
    const sum = protocolSummary(p);
    expect(min).toBeGreaterThanOrEqual(sum.min);
    expect(max).toBeLessThanOrEqual(sum.max);
    const daq = compileDaqProgram(p, { sampleRate: rate, maxTableLength: 64, maxSegments: 256 });
    for (let i = 0; i < s.length; i++) expect(daqSampleAt(daq, i)).toBeCloseTo(s[i], 12);
  });

  it('refuses an offset that does not fit the pair period, naming it', () => {
    expect(() => validateProtocol({ ...doc, offsetsS: [1e-3, 9.5e-3] })).toThrow(/\/offsetsS\/1/);
  });
});

describe('arbitrary waveform from CSV', () => {
  const csv = 'time_s,volts\n# a comment\n0,0\n0.5,1\n1,-1\n2,0\n';

  it('parses with header and comments; interpolates linearly or holds', () => {
    const lin = validateProtocol({ kind: 'arbitrary', csv, repeat: 2 });
    expect(lin.durationS).toBe(4);
    expect(stimulusAt(lin, 0.25)).toBeCloseTo(0.5, 12);
    expect(stimulusAt(lin, 0.75)).toBeCloseTo(0, 12);
    expect(stimulusAt(lin, 2.25)).toBeCloseTo(0.5, 12);
    expect(protocolSummary(lin)).toMatchObject({ min: -1, max: 1 });
    const step = validateProtocol({ kind: 'arbitrary', csv, interpolation: 'step' });
    expect([0.25, 0.75, 1.5].map((t) => stimulusAt(step, t))).toEqual([0, 1, -1]);
    expect(compileSmuProgram(step).points.map((q) => [q.value, q.dwellS])).toEqual([
      [0, 0.5],
      [1, 0.5],
      [-1, 1],
    ]);
  });

  it('refuses bad CSV naming /csv and the line', () => {
    expect(() => parseWaveformCsv('0,0\n1,1\n1,2\n')).toThrow(/line 3.*does not increase/);
    expect(() => parseWaveformCsv('0,0\n1,abc\n')).toThrow(/line 2/);
    expect(() => validateProtocol({ kind: 'arbitrary', csv: '0,1' })).toThrow(ProtocolError);
    try {
      validateProtocol({ kind: 'arbitrary', csv: '0,0\n-1,1\n' });
    } catch (e) {
      expect((e as ProtocolError).field).toBe('/csv');
    }
  });
});

describe('sweep', () => {
  it('expands a log range × list grid into validated protocols, first parameter slowest', () => {
    const { points } = expandSweep({
      kind: 'sweep',
      base: { kind: 'sine', quantity: 'voltage', durationS: 0.5 },
      parameters: [
        { field: 'frequencyHz', start: 1, stop: 100, steps: 3, scale: 'log' },
        { field: '/amplitude', values: [0.5, 1] },
      ],
    });
    expect(points).toHaveLength(6);
    expect(points.map((p) => [(p.protocol as { frequencyHz: number }).frequencyHz, (p.protocol as { amplitude: number }).amplitude])).toEqual([
      [1, 0.5],
      [1, 1],
      [10, 0.5],
      [10, 1],
      [100, 0.5],
      [100, 1],
    ].map(([f, a]) => [expect.closeTo(f, 9), a]));
    expect(points[2].label).toBe('frequencyHz=10, /amplitude=0.5');
    const sum = sweepSummary(expandSweep({ kind: 'sweep', base: { kind: 'dc', durationS: 2 }, parameters: [{ field: 'level', values: [-1e-3, 2e-3] }] }));
    expect(sum).toMatchObject({ count: 2, durationS: 4, min: -1e-3, max: 2e-3, unit: 'A' });
  });

  it('zips lists and sweeps into arrays (STDP offset)', () => {
    const { points } = expandSweep({
      kind: 'sweep',
      combine: 'zip',
      base: { kind: 'stdp', offsetsS: [1e-3] },
      parameters: [
        { field: '/offsetsS/0', values: [1e-3, 2e-3] },
        { field: 'preAmplitude', values: [1, 1.5] },
      ],
    });
    expect(points.map((p) => p.protocol.kind === 'stdp' && [p.protocol.offsetsS[0], p.protocol.preAmplitude])).toEqual([
      [1e-3, 1],
      [2e-3, 1.5],
    ]);
  });

  it('refuses bad sweeps naming the field and the point', () => {
    const base = { kind: 'square', durationS: 0.1 };
    expect(() => expandSweep({ kind: 'sweep', base, parameters: [{ field: 'frequencyHz', values: [10, -5] }] })).toThrow(
      /\/parameters\/0.*sweep point 1 \(frequencyHz=-5\)/,
    );
    expect(() => expandSweep({ kind: 'sweep', base: { kind: 'square', frequencyHz: 0 }, parameters: [{ field: 'duty', values: [0.5] }] })).toThrow(
      /\/base\/frequencyHz/,
    );
    expect(() => expandSweep({ kind: 'sweep', base, parameters: [{ field: 'kind', values: ['dc'] }] })).toThrow(/\/parameters\/0\/field/);
    expect(() => expandSweep({ kind: 'sweep', base, parameters: [{ field: 'duty', start: 0.1, stop: 0.9 }] })).toThrow(/\/parameters\/0\/steps/);
    expect(() =>
      expandSweep({ kind: 'sweep', base, combine: 'zip', parameters: [{ field: 'duty', values: [0.2, 0.3] }, { field: 'amplitude', values: [1] }] }),
    ).toThrow(/equal lengths/);
    expect(() =>
      expandSweep({ kind: 'sweep', base, parameters: [{ field: 'duty', start: 0.01, stop: 0.99, steps: 200 }, { field: 'frequencyHz', start: 1, stop: 9, steps: 100 }] }),
    ).toThrow(/more than 10000/);
  });
});

describe('compile', () => {
  it('square 1 kHz 50 % for 10 ms: SMU 20 points of 0.5 ms; DAQ one period cycled', () => {
    const p = validateProtocol({ kind: 'square', durationS: 0.01 });
    const smu = compileSmuProgram(p);
    expect(smu.points).toHaveLength(20);
    expect(smu.points.every((q) => Math.abs(q.dwellS - 5e-4) < 1e-12)).toBe(true);
    const daq = compileDaqProgram(p, { sampleRate: 100_000, maxTableLength: 1000, maxSegments: 8 });
    expect(daq.tables[0]).toHaveLength(100);
    expect(daq.totalSamples).toBe(1000);
    const s = sampleStimulus(p, 100_000, 0, 1000);
    for (let i = 0; i < 1000; i += 7) expect(daqSampleAt(daq, i)).toBe(s[i]);
  });

  it('refuses what the instrument cannot play, naming the capability', () => {
    const long = validateProtocol({ kind: 'square', durationS: 10 });
    expect(() => compileSmuProgram(long)).toThrow(CompileError);
    expect(() => compileSmuProgram(long)).toThrow(/maxPoints/);
    const fast = validateProtocol({ kind: 'sine', frequencyHz: 5000, durationS: 0.01 });
    expect(() => compileSmuProgram(fast)).toThrow(/minDwellS/);
    const odd = validateProtocol({ kind: 'sine', frequencyHz: 3, durationS: 2 });
    expect(() => compileDaqProgram(odd, { sampleRate: 10_000, maxTableLength: 1000, maxSegments: 8 })).toThrow(/maxTableLength/);
    const chirp = validateProtocol({ kind: 'chirp', durationS: 1 });
    expect(() => compileDaqProgram(chirp)).toThrow(/maxTableLength/);
    const big = validateProtocol({ kind: 'dc', level: 6, quantity: 'voltage' });
    expect(() => compileDaqProgram(big, { sampleRate: 1000, maxTableLength: 10, maxSegments: 4, outputRange: { min: 0, max: 5 } })).toThrow(
      /outputRange/,
    );
  });

  it('a DC step with delay is two segments; sine program stays inside its summary', () => {
    const p = validateProtocol({ kind: 'dc', level: 2, delayS: 0.25, durationS: 1 });
    const daq = compileDaqProgram(p, { sampleRate: 1000, maxTableLength: 10, maxSegments: 4 });
    expect(daq.segments).toEqual([
      { table: 0, samples: 250 },
      { table: 1, samples: 750 },
    ]);
    const sine = validateProtocol({ kind: 'sine', frequencyHz: 50, amplitude: 1.5, offset: 0.2, durationS: 0.2 });
    const sum = protocolSummary(sine);
    for (const prog of [compileSmuProgram(sine), compileDaqProgram(sine)]) {
      const { min, max } = programExtremes(prog);
      expect(min).toBeGreaterThanOrEqual(sum.min);
      expect(max).toBeLessThanOrEqual(sum.max);
    }
  });
});
