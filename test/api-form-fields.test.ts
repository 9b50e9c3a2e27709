/**
 * What the dashboard's forms read from the API (docs/dashboard.md "Start form"), over app.inject(): every
 * protocol parameter and every source option a request may give has a title (and its unit, or a unit that
 * follows the quantity); a limit or program refusal names the exact parameter or option that causes it
 * (`/protocol/offset`, `/protocol/levels/1`, `/options/compliance`; in a sweep the parameter that varies it,
 * or the base protocol's field); the protocol check states the stimulus's shortest period (the
 * samples-per-period warning of New run and Sweeps) and previews a long periodic stimulus over its first periods.
 */
import { describe, expect, it } from 'vitest';
import { useInjectServer } from './helpers-live.ts';

const { inject } = useInjectServer();
type Schema = { title?: string; unit?: string; quantityUnit?: string; type?: string; properties?: Record<string, Schema> };

const refusal = async (url: string, body: unknown) => {
  const r = await inject('POST', url, body);
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  return r.body.error as { code: string; message: string; field?: string };
};

describe('form fields: titles and units', () => {
  it('every protocol parameter and every network run option has a title; times, frequencies and levels a unit', async () => {
    const { protocols } = (await inject('GET', '/api/protocols')).body as { protocols: { kind: string; schema: Schema }[] };
    expect(protocols.length).toBeGreaterThanOrEqual(9);
    for (const p of protocols) {
      for (const [k, s] of Object.entries(p.schema.properties ?? {})) {
        if (k === 'kind') continue;
        expect(s.title, `${p.kind}.${k}`).toBeTruthy();
        if (/S$/.test(k)) expect(s.unit, `${p.kind}.${k}`).toBe('s');
        if (/Hz$/.test(k)) expect(s.unit, `${p.kind}.${k}`).toBe('Hz');
      }
    }
    const square = protocols.find((p) => p.kind === 'square')!.schema.properties!;
    expect(square.amplitude).toMatchObject({ title: 'Amplitude', quantityUnit: 'same' });
    expect(square.duty).toMatchObject({ title: 'Duty cycle' });
    expect(square.duty.unit).toBeUndefined();
    expect(protocols.find((p) => p.kind === 'sine')!.schema.properties!.phaseDeg).toMatchObject({ title: 'Phase', unit: '°' });

    const { sources } = (await inject('GET', '/api/sources')).body as { sources: { kind: string; options: Schema }[] };
    for (const src of sources) for (const [k, s] of Object.entries(src.options.properties ?? {})) expect(s.title, `${src.kind}.${k}`).toBeTruthy();
    const smu = sources.find((s) => s.kind === 'smu')!.options.properties!;
    expect(smu.compliance).toMatchObject({ title: 'Compliance', quantityUnit: 'other', benchLimit: 'compliance' });
    expect(smu.maxVoltage).toMatchObject({ title: 'Max voltage', unit: 'V', benchLimit: 'maxVoltage' });
    // options only the CLI may give (a serial port, an address) are not offered to a form
    expect(smu.address).toBeUndefined();
    expect(sources.find((s) => s.kind === 'daq')!.options.properties!.port).toBeUndefined();
  });
});

describe('refusals name the field that causes them', () => {
  it('a limit refusal of a protocol names the parameter with the largest level, an element of a list, the CSV', async () => {
    // 15 V offset + 10 V amplitude: a 25 V peak no single field exceeds; the offset is the larger part
    const sine = { kind: 'sine', quantity: 'voltage', amplitude: 10, offset: 15, frequencyHz: 10 };
    expect(await refusal('/api/protocols/check', { protocol: sine })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/protocol/offset' });
    expect(await refusal('/api/runs', { protocol: { ...sine, durationS: 0.1 } })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/protocol/offset' });
    expect(await refusal('/api/runs', { protocol: { kind: 'square', amplitude: 0.05 } })).toMatchObject({ field: '/protocol/amplitude' });
    expect(await refusal('/api/protocols/check', { protocol: { kind: 'ladder', levels: [1, 25, 2], dwellS: 0.1 } })).toMatchObject({ field: '/protocol/levels/1' });
    expect(await refusal('/api/protocols/check', { protocol: { kind: 'arbitrary', csv: '0,0\n0.1,30\n0.2,0' } })).toMatchObject({ field: '/protocol/csv' });
  });

  it('a run option above the bench limit names the option; the SMU refusing a program names the parameter', async () => {
    const dc = { kind: 'dc', quantity: 'voltage', level: 1, durationS: 0.5 };
    expect(await refusal('/api/runs', { protocol: dc, source: 'smu', sampleRate: 100, options: { maxVoltage: 1000 } })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/options/maxVoltage' });
    expect(await refusal('/api/runs', { protocol: dc, source: 'smu', sampleRate: 100, options: { compliance: 1 } })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/options/compliance' });
    expect(await refusal('/api/runs', { protocol: dc, source: 'smu', sampleRate: 100, options: { nplc: 100 } })).toMatchObject({ code: 'BAD_SOURCE_OPTIONS', field: '/options/nplc' });
    // 15 V over the SMU's own 2 V default: the level
    expect(await refusal('/api/runs', { protocol: { ...dc, level: 15 }, source: 'smu', sampleRate: 100 })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/protocol/level' });
    // a 2 ms pulse at 100 points/s: the pulse width (the shortest time of the protocol)
    const pulses = { kind: 'pulse-train', quantity: 'voltage', amplitude: 0.5, baseline: 0, widthS: 0.002, periodS: 0.05, count: 3 };
    expect(await refusal('/api/runs', { protocol: pulses, source: 'smu', sampleRate: 100 })).toMatchObject({ code: 'PROGRAM_LIMIT', field: '/protocol/widthS' });
  });

  it('a sweep point refused names the swept parameter, or the base protocol field', async () => {
    const swept = { kind: 'sweep', base: { kind: 'dc', quantity: 'voltage' }, parameters: [{ field: 'level', values: [1, 25] }] };
    expect(await refusal('/api/protocols/check', { protocol: swept })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/protocol/parameters/0' });
    expect(await refusal('/api/sweeps', { sweep: swept })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/sweep/parameters/0' });
    const base = { kind: 'sweep', base: { kind: 'sine', quantity: 'voltage', offset: 15, durationS: 0.1 }, parameters: [{ field: 'amplitude', values: [1, 10] }] };
    const e = await refusal('/api/protocols/check', { protocol: base });
    expect(e).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/protocol/base/offset' });
    expect(e.message).toMatch(/^sweep point 1 \(amplitude=10\)/);
    expect(await refusal('/api/sweeps', { sweep: base })).toMatchObject({ field: '/sweep/base/offset' });
  });

  it('a sweep whose options conflict with the limits is refused when posted, naming the option or parameter and the limit', async () => {
    const sweep = { kind: 'sweep', base: { kind: 'dc', quantity: 'voltage', durationS: 0.2 }, parameters: [{ field: 'level', values: [0.2, 1] }] };
    const before = (await inject('GET', '/api/sweeps')).body.sweeps.length;
    // compliance above the sweep's own maxCurrent (the bench allows both)
    const c = await refusal('/api/sweeps', { sweep, source: 'smu', sampleRate: 100, options: { maxCurrent: 1e-3, compliance: 5e-3 } });
    expect(c).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/options/compliance' });
    expect(c.message).toMatch(/^sweep point 0 \(level=0\.2\): .*compliance\.current = 0\.001 A/);
    // a level above the sweep's own maxVoltage: the swept parameter, at the first point over it
    const v = await refusal('/api/sweeps', { sweep, source: 'smu', sampleRate: 100, options: { maxVoltage: 0.5 } });
    expect(v).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/sweep/parameters/0' });
    expect(v.message).toMatch(/^sweep point 1 \(level=1\): .*maxVoltage = 0\.5 V/);
    // worst-case power from the sweep's compliance over its own maxPower
    expect(await refusal('/api/sweeps', { sweep, source: 'smu', sampleRate: 100, options: { maxPower: 1e-4, compliance: 1e-3 } })).toMatchObject({ code: 'LIMIT_EXCEEDED', field: '/sweep/parameters/0' });
    // an SMU point rate it cannot keep
    expect(await refusal('/api/sweeps', { sweep, source: 'smu', sampleRate: 5000 })).toMatchObject({ field: '/sampleRate' });
    // a rule across options (a reset threshold of 0) on the DAQ
    expect(await refusal('/api/sweeps', { sweep, source: 'daq', options: { spikes: { a0: { threshold: 0, direction: 'reset' } } } })).toMatchObject({ field: '/options/spikes/a0' });
    // nothing was started
    expect((await inject('GET', '/api/sweeps')).body.sweeps.length).toBe(before);
  });
});

describe('protocol check: the shortest period', () => {
  it('states the period of a protocol and of a sweep, and previews a long periodic stimulus over its first periods', async () => {
    const sq = await inject('POST', '/api/protocols/check', { protocol: { kind: 'square', frequencyHz: 1000, durationS: 1 }, points: 800, previewPeriods: 5 });
    expect(sq.body.periodS).toBeCloseTo(1e-3, 12);
    expect(sq.body.preview.dt * 800).toBeCloseTo(5e-3, 12);
    const chirp = await inject('POST', '/api/protocols/check', { protocol: { kind: 'chirp', startHz: 10, stopHz: 2000, durationS: 1 } });
    expect(chirp.body.periodS).toBeCloseTo(1 / 2000, 12);
    expect((await inject('POST', '/api/protocols/check', { protocol: { kind: 'dc' } })).body.periodS).toBeNull();
    const sweep = await inject('POST', '/api/protocols/check', {
      protocol: { kind: 'sweep', base: { kind: 'square', durationS: 0.1 }, parameters: [{ field: 'frequencyHz', values: [100, 2000, 500] }] },
    });
    expect(sweep.body.periodS).toBeCloseTo(1 / 2000, 12);
  });
});
