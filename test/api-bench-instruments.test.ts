/**
 * The Bench page's API over app.inject() on the virtual bench: instruments listed (configured, virtual),
 * a virtual Keithley 2400 on a real pty connected (identified by *IDN?, output off) and used by SMU runs
 * (no second open), refused while in use, disconnected (output off first); runs on a disconnected
 * instrument refused; the virtual Uno (real firmware in simavr) connected by its HELLO reply, handed to a
 * DAQ run and taken back. Bad input: a clear message, nothing changed.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { useInjectServer } from './helpers-live.ts';
import { virtualBoardAvailable } from '../drivers/daq/virtual.ts';

const { inject } = useInjectServer();
const instrument = async (id: string) => (await inject('GET', `/api/bench/instruments/${id}`)).body.instrument;
const runCount = async () => (await inject('GET', '/api/runs?limit=1000')).body.runs.length;
const smuRun = (protocol: object, instrumentId = 'virtual-smu') =>
  inject('POST', '/api/runs', { protocol, source: 'smu', sampleRate: 100, options: { instrument: instrumentId, compliance: 1e-3 } });

describe('bench instruments', () => {
  it('lists the configured and virtual instruments; bad input changes nothing', async () => {
    const list = (await inject('GET', '/api/bench/instruments')).body.instruments;
    const byId = Object.fromEntries(list.map((i: any) => [i.id, i]));
    expect(byId.sim).toMatchObject({ kind: 'simulated', origin: 'configured', state: 'connected', outputs: 'off', limits: { maxVoltage: 20 } });
    // the simulated instrument names the circuit the simulated source actually runs (its twin circuit)
    const simulated = (await inject('GET', '/api/sources')).body.sources.find((s: any) => s.kind === 'simulated');
    expect(byId.sim).toMatchObject({ model: simulated.twinCircuit, identity: `built-in circuit model ${simulated.twinCircuit}` });
    expect(byId['virtual-smu']).toMatchObject({ kind: 'smu', origin: 'virtual', state: 'disconnected' });
    expect(byId['virtual-smu'].port).toBeUndefined();

    const bad = [
      [await inject('POST', '/api/bench/instruments/no%20such/connect'), 400, 'VALIDATION', /\/params\/id/],
      [await inject('POST', '/api/bench/instruments/nosuch/connect'), 404, 'INSTRUMENT_NOT_FOUND', /"nosuch" does not exist.*virtual-smu/],
      [await inject('POST', '/api/bench/instruments/virtual-smu/connect', { port: '/dev/ttyUSB9' }), 400, 'VALIDATION', /\/port: is not an allowed field/],
      [await inject('POST', '/api/bench/instruments/sim/disconnect'), 400, 'BAD_INSTRUMENT', /built-in simulated circuit/],
    ] as const;
    for (const [r, status, code, message] of bad) {
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toMatch(message);
    }
    expect((await inject('GET', '/api/bench/instruments')).body.instruments).toEqual(list);
  });

  it('connects a virtual 2400 over a pty; SMU runs use it, it cannot be disconnected while in use; disconnect turns it off', { timeout: 60_000 }, async () => {
    expect(existsSync('/usr/bin/socat')).toBe(true);
    const before = await runCount();
    const refused = await smuRun({ kind: 'dc', quantity: 'voltage', level: 0.2, durationS: 0.3 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'INSTRUMENT_NOT_CONNECTED', field: '/options' });
    expect(refused.body.error.message).toMatch(/"virtual-smu" is not connected: connect it first/);
    expect(await runCount()).toBe(before);

    const c = await inject('POST', '/api/bench/instruments/virtual-smu/connect');
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.instrument).toMatchObject({ state: 'connected', outputs: 'off', identity: expect.stringMatching(/^KEITHLEY INSTRUMENTS INC\.,MODEL 2400,/) });
    expect(c.body.instrument.capabilities).toMatchObject({ driver: 'Keithley 2400', maxPoints: 2500, minDwellS: 5e-4, maxVoltage: 210 });
    const pty = c.body.instrument.port as string;
    expect(existsSync(pty)).toBe(true);
    // connecting again changes nothing
    expect((await inject('POST', '/api/bench/instruments/virtual-smu/connect')).body.instrument).toEqual(c.body.instrument);

    // a program the 2400 cannot play at 100 points/s is refused before any run exists, naming the capability
    const tooShort = await smuRun({ kind: 'pulse-train', quantity: 'voltage', amplitude: 0.5, baseline: 0, widthS: 0.002, periodS: 0.05, count: 3 });
    expect(tooShort.status).toBe(400);
    expect(tooShort.body.error).toMatchObject({ code: 'PROGRAM_LIMIT', field: '/protocol/widthS' });
    expect(tooShort.body.error.message).toMatch(/capability minDwellS/);
    expect(await runCount()).toBe(before);

    // a long run: the instrument is in use (outputs on), not to be disconnected or lent twice
    const long = await smuRun({ kind: 'square', quantity: 'voltage', amplitude: 0.5, offset: 0, frequencyHz: 5, durationS: 30 });
    expect(long.status, JSON.stringify(long.body)).toBe(201);
    const id = long.body.run.id;
    expect(long.body.run.bench).toMatchObject({ instrument: 'virtual-smu', address: pty, idn: c.body.instrument.identity });
    expect(await instrument('virtual-smu')).toMatchObject({ state: 'connected', inUseBy: id, outputs: 'on' });
    const busy = await inject('POST', '/api/bench/instruments/virtual-smu/disconnect');
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('INSTRUMENT_BUSY');
    expect(busy.body.error.message).toMatch(new RegExp(`in use by run ${id}; stop the run first`));
    const twice = await smuRun({ kind: 'dc', quantity: 'voltage', level: 0.2, durationS: 0.3 });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('INSTRUMENT_BUSY');
    await new Promise((r) => setTimeout(r, 800));
    expect((await inject('POST', `/api/runs/${id}/stop`)).body.run.status).toBe('aborted');
    expect(await instrument('virtual-smu')).toMatchObject({ state: 'connected', outputs: 'off', port: pty });
    expect((await instrument('virtual-smu')).inUseBy).toBeUndefined();
    const stored = (await inject('GET', `/api/runs/${id}`)).body.run;
    expect(stored.channels[0].sampleCount).toBeGreaterThan(10);

    // its address is not accepted over the network (nothing from the network names a port); by id: a complete run
    const byAddress = await inject('POST', '/api/runs', {
      protocol: { kind: 'dc', quantity: 'voltage', level: 0.2, durationS: 0.3 },
      source: 'smu',
      sampleRate: 100,
      options: { address: pty, compliance: 1e-3 },
    });
    expect(byAddress.status).toBe(400);
    expect(byAddress.body.error).toMatchObject({ code: 'BAD_SOURCE_OPTIONS', field: '/options/address' });
    const short = await inject('POST', '/api/runs', {
      protocol: { kind: 'dc', quantity: 'voltage', level: 0.2, durationS: 0.3 },
      source: 'smu',
      sampleRate: 100,
      options: { instrument: 'virtual-smu', compliance: 1e-3 },
    });
    expect(short.status).toBe(201);
    const end = Date.now() + 20_000;
    let run: any;
    do {
      await new Promise((r) => setTimeout(r, 100));
      run = (await inject('GET', `/api/runs/${short.body.run.id}`)).body.run;
    } while (run.status === 'running' && Date.now() < end);
    expect(run.status, run.reason).toBe('completed');
    expect(run.bench.instrument).toBe('virtual-smu');
    expect(run.channels.map((ch: any) => ch.sampleCount)).toEqual([30, 30, 30]);

    const d = await inject('POST', '/api/bench/instruments/virtual-smu/disconnect');
    expect(d.status).toBe(200);
    expect(d.body.instrument).toMatchObject({ state: 'disconnected' });
    expect(d.body.instrument.outputs).toBeUndefined();
    expect(d.body.instrument.error).toBeUndefined();
    expect(existsSync(pty)).toBe(false);
    expect((await smuRun({ kind: 'dc', quantity: 'voltage', level: 0.2, durationS: 0.3 })).body.error.code).toBe('INSTRUMENT_NOT_CONNECTED');
  });

  it.runIf(virtualBoardAvailable())('connects the virtual Uno by its HELLO reply, hands it to a DAQ run and takes it back', { timeout: 60_000 }, async () => {
    const c = await inject('POST', '/api/bench/instruments/virtual-daq/connect');
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.instrument).toMatchObject({ state: 'connected', outputs: 'off', identity: expect.stringMatching(/firmware \d+\.\d+\.\d+, protocol v\d+/) });
    expect(c.body.instrument.capabilities.analogInputs).toBeGreaterThan(0);
    const r = await inject('POST', '/api/runs', {
      protocol: { kind: 'square', quantity: 'voltage', amplitude: 2, offset: 0, frequencyHz: 50, durationS: 0.3 },
      source: 'daq',
      sampleRate: 1000,
      options: { instrument: 'virtual-daq' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect((await instrument('virtual-daq')).inUseBy).toBe(r.body.run.id);
    const end = Date.now() + 30_000;
    let run: any;
    do {
      await new Promise((res) => setTimeout(res, 150));
      run = (await inject('GET', `/api/runs/${r.body.run.id}`)).body.run;
    } while (run.status === 'running' && Date.now() < end);
    expect(run.status, run.reason).toBe('completed');
    expect(run.bench.daq.port).toBe(c.body.instrument.port);
    await expect.poll(async () => (await instrument('virtual-daq')).inUseBy).toBeUndefined();
    expect(await instrument('virtual-daq')).toMatchObject({ state: 'connected', identity: c.body.instrument.identity });
    expect((await instrument('virtual-daq')).error).toBeUndefined();
    const d = await inject('POST', '/api/bench/instruments/virtual-daq/disconnect');
    expect(d.body.instrument.state).toBe('disconnected');
  });
});
