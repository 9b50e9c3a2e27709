/** Arbitrary waveform: "time_s,value" points from CSV, joined by straight lines or held, played `repeat` times. */
import { Type, type Static } from 'typebox';
import { cellNumber, parseCsv } from '../../import/csv.ts';
import { minMax, optionalDurationS, ProtocolError, quantityOf, zeroTail, type ProtocolKind, type SmuPoint, type WithDuration } from '../kind.ts';

export const ArbitrarySchema = Type.Object(
  {
    kind: Type.Literal('arbitrary'),
    quantity: quantityOf('voltage'),
    durationS: optionalDurationS,
    csv: Type.String({
      minLength: 1,
      maxLength: 20_000_000,
      title: 'Waveform (CSV)',
      quantityUnit: 'same',
      description: 'CSV text, one "time_s,value" pair per line (optional header, # comments); times increasing from ≥ 0',
    }),
    interpolation: Type.Union([Type.Literal('linear'), Type.Literal('step')], {
      default: 'linear',
      title: 'Interpolation',
      description: 'Between points: straight lines, or hold each value until the next time',
    }),
    repeat: Type.Integer({ minimum: 1, maximum: 1e6, default: 1, title: 'Repeats', description: 'Times the waveform is played; one play lasts the last time in the CSV' }),
  },
  { additionalProperties: false, title: 'Arbitrary waveform (CSV)' },
);
export type Arbitrary = WithDuration<Static<typeof ArbitrarySchema>>;

/** Parsed points of an arbitrary waveform (cached per protocol object). */
export interface WaveformPoints {
  t: Float64Array;
  v: Float64Array;
}
const parsedCsv = new WeakMap<object, WaveformPoints>();

/** Parses the protocol's CSV (cached); throws ProtocolError naming /csv and the line. */
export function arbitraryPoints(p: Arbitrary): WaveformPoints {
  const hit = parsedCsv.get(p);
  if (hit) return hit;
  const pts = parseWaveformCsv(p.csv);
  parsedCsv.set(p, pts);
  return pts;
}

const MAX_CSV_POINTS = 1_000_000;

/**
 * "time_s,value" lines → points, read by the one CSV reader (server/import/csv.ts). A first row that is not
 * numeric is a header; blank lines and lines starting with # are skipped; separator comma, semicolon or tab.
 * Times must start at ≥ 0 and increase strictly, and the last time must be > 0 (it is the length of one play).
 */
export function parseWaveformCsv(csv: string): WaveformPoints {
  let table;
  try {
    table = parseCsv(csv, 'csv', { comment: '#' });
  } catch (err) {
    throw new ProtocolError('/csv', (err as Error).message.replace(/^csv: /, ''));
  }
  const t: number[] = [];
  const v: number[] = [];
  table.rows.forEach((cells, r) => {
    const line = table.lines[r];
    const nums = cells.map((c) => cellNumber(c, table.decimalComma));
    if (r === 0 && nums.some((n) => Number.isNaN(n))) return; // a header line
    if (cells.length !== 2 || !nums.every(Number.isFinite)) {
      throw new ProtocolError('/csv', `line ${line}: expected two numbers "time_s,value", got "${cells.join(table.delimiter).slice(0, 60)}"`);
    }
    const [ti, vi] = nums;
    if (ti < 0) throw new ProtocolError('/csv', `line ${line}: time ${ti} s is negative`);
    if (t.length > 0 && ti <= t[t.length - 1]) {
      throw new ProtocolError('/csv', `line ${line}: time ${ti} s does not increase (previous ${t[t.length - 1]} s)`);
    }
    if (Math.abs(vi) > 1e3) throw new ProtocolError('/csv', `line ${line}: value ${vi} is outside ±1000`);
    t.push(ti);
    v.push(vi);
    if (t.length > MAX_CSV_POINTS) throw new ProtocolError('/csv', `more than ${MAX_CSV_POINTS} points`);
  });
  if (t.length < 2 || !(t[t.length - 1] > 0)) {
    throw new ProtocolError('/csv', 'needs at least two points and a last time > 0 s');
  }
  return { t: Float64Array.from(t), v: Float64Array.from(v) };
}

export const arbitrary: ProtocolKind<Arbitrary> = {
  schema: ArbitrarySchema,
  check: (p) => void arbitraryPoints(p), // throws naming /csv and the line
  naturalDurationS: (p) => {
    const { t } = arbitraryPoints(p);
    return t[t.length - 1] * p.repeat;
  },
  extremes: (p, natural) => [...minMax(arbitraryPoints(p).v), ...zeroTail(p, natural)],
  waveform: (p, natural) => {
    const { t: ts, v: vs } = arbitraryPoints(p);
    const period = ts[ts.length - 1];
    const linear = p.interpolation === 'linear';
    return (t) => {
      if (t < 0 || t >= natural) return 0;
      const x = t % period;
      if (x <= ts[0]) return vs[0];
      // last point with ts[i] <= x
      let lo = 0;
      let hi = ts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (ts[mid] <= x) lo = mid;
        else hi = mid - 1;
      }
      if (!linear || lo === ts.length - 1) return vs[lo];
      const f = (x - ts[lo]) / (ts[lo + 1] - ts[lo]);
      return vs[lo] + f * (vs[lo + 1] - vs[lo]);
    };
  },
  breakpoints: (p, push, natural) => {
    if (p.interpolation !== 'step') return false;
    const { t } = arbitraryPoints(p);
    const period = t[t.length - 1];
    for (let r = 0; r < p.repeat && r * period < p.durationS; r++) for (let i = 0; i < t.length; i++) push(r * period + t[i]);
    push(natural);
    return true;
  },
  periodic: (p, natural) => {
    const { t } = arbitraryPoints(p);
    return { periodS: t[t.length - 1], lengthS: Math.min(p.durationS, natural) };
  },
  // The CSV points themselves, each held until the next (a linear CSV becomes a staircase through its points).
  smuStaircase: (p, caps) => {
    const { t, v } = arbitraryPoints(p);
    const period = t[t.length - 1];
    const points: SmuPoint[] = [];
    for (let r = 0; r < p.repeat; r++) {
      // before the first CSV time the waveform holds the first value
      if (t[0] > 0 && r * period < p.durationS) points.push({ value: v[0], dwellS: Math.min(r * period + t[0], p.durationS) - r * period });
      for (let i = 0; i + 1 < t.length; i++) {
        const t0 = r * period + t[i];
        if (t0 >= p.durationS) break;
        if (points.length > caps.maxPoints) break;
        points.push({ value: v[i], dwellS: Math.min(r * period + t[i + 1], p.durationS) - t0 });
      }
    }
    return points;
  },
  random: (g, quantity, durationS) => {
    let t = g.chance(0.5) ? 0 : g.log(1e-4, 1e-2);
    const lines = ['time_s,value'];
    for (let i = 0, n = g.int(2, 40); i < n; i++) {
      lines.push(`${t},${g.level()}`);
      t += g.log(1e-4, 0.1);
    }
    return { kind: 'arbitrary', quantity, csv: lines.join('\n'), interpolation: g.pick(['linear', 'step']), repeat: g.int(1, 4), ...(g.chance(0.2) ? { durationS } : {}) };
  },
};
