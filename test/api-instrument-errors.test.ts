/**
 * An instrument's failure reaches the API with its own code and the catalogue's status (common/errors.ts),
 * on real parts: a TCP peer that never answers (TIMEOUT, 504), a virtual 2602B over TCP whose error
 * queue holds a TSP error (INSTRUMENT_ERROR with the instrument's number, 502), a virtual 2400 on a pty whose
 * output is turned off at its front panel during a run (the run fails naming error 803), and a VXI-11
 * peer that does not serve the procedure called (RPC_UNAVAILABLE, as the virtual server throws it).
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../common/errors.ts';
import { Resistor } from '../drivers/smu/virtual/dut.ts';
import { createVirtualSmu, VirtualSmuServer } from '../drivers/smu/virtual/server.ts';
import { VirtualVxi11Server } from '../drivers/smu/virtual/vxi11-server.ts';
import { openResource } from '../drivers/transport/visa.ts';
import { validateBenchConfig } from '../server/benchconfig/index.ts';
import { defaultSmuDut } from '../server/sources/smu-twin-dut.ts';
import { startServer, type TestServer } from './helpers-live.ts';

let server: TestServer;
let mute: net.Server;
const sockets: net.Socket[] = [];
let k2602: VirtualSmuServer;
let k2400: VirtualSmuServer;
const pty = path.join(os.tmpdir(), `spikeloop-test-${process.pid}-k2400`);

beforeAll(async () => {
  // a peer that takes the connection and never says a word (a wedged instrument)
  mute = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  k2602 = await VirtualSmuServer.start('smu-2600b', { tcpPort: 0, dut: defaultSmuDut() });
  k2400 = await VirtualSmuServer.start('smu-2400', { ptyPath: pty, baud: 57_600, dut: defaultSmuDut() });
  const channels = [{ name: 'v', role: 'stimulus' }];
  const bench = validateBenchConfig({
    name: 'instrument errors',
    instruments: [
      { id: 'mute', kind: 'smu', model: 'keithley-2400', port: `TCPIP0::127.0.0.1::${(mute.address() as net.AddressInfo).port}::SOCKET`, channels },
      { id: 'k2602', kind: 'smu', model: 'keithley-2602b', port: k2602.addresses[0], channels },
      { id: 'k2400', kind: 'smu', model: 'keithley-2400', port: pty, baudRate: 57_600, channels },
    ],
    limits: { maxVoltage: 2, maxCurrent: 0.01, maxPower: 0.02, compliance: { current: 0.001, voltage: 2 } },
  });
  server = await startServer({ bench, instruments: { virtual: false, findBoards: async () => [], timeoutMs: 1500 } }, false);
});

afterAll(async () => {
  await server?.close();
  // the client half-closed its side; the mute peer never does
  for (const s of sockets) s.destroy();
  await Promise.all([k2602?.close(), k2400?.close(), new Promise((r) => mute?.close(r))]);
});

const inject = async (method: 'GET' | 'POST', url: string, payload?: object) => {
  const r = await server.inject({ method, url, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: r.json() as any };
};

describe('instrument errors over the API', () => {
  it('a silent instrument: 504 TIMEOUT, left disconnected with the reason', async () => {
    const r = await inject('POST', '/api/bench/instruments/mute/connect');
    expect(r.status).toBe(ERRORS.TIMEOUT.status);
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe('TIMEOUT');
    expect(r.body.error.message).toMatch(/"mute" could not be connected: .*no reply to "\*IDN\?"/);
    expect((await inject('GET', '/api/bench/instruments/mute')).body.instrument).toMatchObject({ state: 'disconnected', error: expect.stringMatching(/\*IDN\?/) });
  });

  it("an error in the instrument's own queue: 502 INSTRUMENT_ERROR naming its number; the output it found on is off", async () => {
    // left by another program: the output on and a TSP run-time error queued (the virtual instrument's own refusal)
    k2602.instrument.execute('smua.source.output = 1', 0);
    k2602.instrument.execute('smua.source.levelv = nosuch.value', 0);
    const r = await inject('POST', '/api/bench/instruments/k2602/connect');
    expect(r.status).toBe(ERRORS.INSTRUMENT_ERROR.status);
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('INSTRUMENT_ERROR');
    expect(r.body.error.message).toMatch(/"k2602" could not be connected: instrument rejected .*-286 "TSP Runtime error/);
    expect(k2602.instrument.execute('print(smua.source.output)', 0).reply).toMatch(/^0/);
    // the queue was read out: connecting again succeeds
    expect((await inject('POST', '/api/bench/instruments/k2602/connect')).body.instrument).toMatchObject({ state: 'connected', outputs: 'off' });
  });

  it("the output turned off at the instrument's front panel during a run: the run fails naming error 803", { timeout: 60_000 }, async () => {
    expect((await inject('POST', '/api/bench/instruments/k2400/connect')).status).toBe(200);
    const started = await inject('POST', '/api/runs', {
      protocol: { kind: 'square', quantity: 'voltage', amplitude: 0.5, offset: 0, frequencyHz: 5, durationS: 20 },
      source: 'smu',
      sampleRate: 100,
      options: { instrument: 'k2400', compliance: 1e-3 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.run.id;
    await new Promise((r) => setTimeout(r, 1000));
    k2400.instrument.execute(':OUTP OFF', 0);
    let run;
    for (let k = 0; k < 200; k++) {
      run = (await inject('GET', `/api/runs/${id}`)).body.run;
      if (run.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(run.status).toBe('failed');
    expect(run.reason).toMatch(/instrument rejected .*803 "Output disabled"/);
    expect((await inject('GET', '/api/bench/instruments/k2400')).body.instrument).toMatchObject({ state: 'connected', outputs: 'off' });
  });
});

describe('VXI-11: a procedure not served', () => {
  it('the virtual server answers PROC_UNAVAIL and the client reports RPC_UNAVAILABLE', async () => {
    const vxi = await VirtualVxi11Server.start(createVirtualSmu('smu-2400', new Resistor(1e3)));
    try {
      // the core channel's port given as the portmapper's: GETPORT is not a procedure it serves
      const err = await openResource(vxi.address, { portmapperPort: vxi.corePort }).catch((e) => e);
      expect(err).toMatchObject({ code: 'RPC_UNAVAILABLE', status: 502 });
      expect(err.message).toMatch(/procedure unavailable/);
    } finally {
      await vxi.close();
    }
  });
});
