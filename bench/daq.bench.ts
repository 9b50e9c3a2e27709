/**
 * DAQ benches (issue 6), on the real firmware in simavr behind a real pty:
 *   daq_decode_mbps       host frame decoder (COBS + CRC-16, frames delivered) throughput on DATA frames, MB/s of
 *                         wire bytes; the note adds the rate with 10-bit unpacking into per-channel arrays
 *   daq_sustained_ks_2ch  per-channel rate of a 2-channel run (Uno image, 1,000,000 baud) that loses no sample over
 *                         the whole emulated span: the highest rate the board accepts for A0 and A1 (it refuses
 *                         20 kS/s and names its limit, PROTOCOL.md "Rates and budgets") for 10 minutes of emulated
 *                         time, measured, not extrapolated; 0 if any tick was lost (the note says how many). The
 *                         stimulus table plays on the same clock and is recorded as the run's `stim` channel from the
 *                         table the board applies (no echo on the link; PROTOCOL.md, CONFIGURE flags). The note adds a
 *                         short run at the limit with the stimulus echoed by the board (3 values per tick).
 *   daq_wire_efficiency   payload bits / line bits on that run: sample bits delivered divided by 8 x bytes the
 *                         UART carried (UART start/stop bits are a fixed physical-layer 0.8, excluded)
 * SPIKELOOP_DAQ_BENCH_SECONDS shortens the long run (emulated seconds; default 600). The emulator runs at most 1.5x
 * real time: the host's 50 ms heartbeat must stay inside the firmware's 240 ms watchdog in emulated time even when
 * the host process stalls (at a 2x cap a run on the loaded 2-core machine hit the watchdog once); with the firmware
 * at its 2-channel limit the emulator manages about 1.6-2x on this machine, so the long run takes ~7 minutes.
 */
import type { Metric } from './run.ts';
import { FrameDecoder, T, encodeFrame, unpackData } from '../drivers/daq/protocol.ts';
import { DaqRun } from '../drivers/daq/source.ts';
import { VirtualBoard, virtualBoardAvailable } from '../drivers/daq/virtual.ts';

function decodeBench(): Metric {
  // 96 ticks x 2 channels of 10-bit samples per frame, as the Uno sends them
  const frames: Uint8Array[] = [];
  for (let f = 0; f < 64; f++) {
    const payload = new Uint8Array(4 + 240);
    payload[0] = f;
    for (let i = 4; i < payload.length; i++) payload[i] = (i * 131 + f * 7) & 0xff;
    frames.push(encodeFrame(T.DATA, f, payload));
  }
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    stream.set(f, o);
    o += f.length;
  }
  const slots = [new Uint16Array(128), new Uint16Array(128)];
  const measure = (unpack: boolean) => {
    let ticks = 0;
    const dec = new FrameDecoder((body, len) => {
      if (unpack) ticks += unpackData(body, 2, len - 4, 10, 2, slots).ticks;
    });
    const chunk = 4096;
    const run = (reps: number) => {
      for (let r = 0; r < reps; r++) for (let i = 0; i < stream.length; i += chunk) dec.push(stream.subarray(i, i + chunk));
    };
    run(50); // warm-up
    const reps = 1500;
    const t0 = process.hrtime.bigint();
    run(reps);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return { mbps: (stream.length * reps) / 1e6 / s, mb: (stream.length * reps) / 1e6, crc: dec.stats.crcErrors, ticks };
  };
  const plain = measure(false);
  const unpacked = measure(true);
  return {
    metric: 'daq_decode_mbps',
    value: +plain.mbps.toFixed(1),
    unit: 'MB/s',
    note: `${plain.mb.toFixed(0)} MB of DATA frames in 4 kB chunks, ${plain.crc} CRC errors; with 10-bit unpacking into channel arrays ${unpacked.mbps.toFixed(1)} MB/s; target >= 20`,
  };
}

/** The highest rate the board accepts on A0, A1: 20 kS/s, or the limit it names when it refuses that. */
async function highestRate(vb: VirtualBoard, recordStimulus: boolean): Promise<number> {
  const probe = new DaqRun({ path: vb.path, channels: [0, 1], rate: 20_000, recordStimulus, durationSamples: 10 });
  let reason = '';
  for await (const m of probe.messages(new AbortController().signal)) if (m.type === 'stop' && m.status === 'failed') reason = m.reason ?? '';
  if (!reason) return 20_000;
  const limit = /at most (\d+) S\/s/.exec(reason);
  if (!limit) throw new Error(`board refused 20 kS/s: ${reason}`);
  return Number(limit[1]);
}

/** One run of `seconds` emulated at `rate` per channel on A0, A1; counts every analog sample delivered. */
async function sustained(vb: VirtualBoard, rate: number, seconds: number, recordStimulus: boolean) {
  const codes = Array.from({ length: 256 }, (_, i) => (i * 97) % 256); // a scrambled ramp, looped
  const before = await vb.stats();
  const t0 = Date.now();
  const samples = Math.round(rate * seconds);
  const run = new DaqRun({ path: vb.path, channels: [0, 1], rate, recordStimulus, stimulus: { codes, loop: true }, durationSamples: samples });
  let delivered = 0;
  let status = '';
  let reason: string | undefined;
  for await (const m of run.messages(new AbortController().signal)) {
    if (m.type === 'block' && m.channel !== 0) delivered += m.samples.length;
    if (m.type === 'stop') ({ status, reason } = m);
  }
  const wall = (Date.now() - t0) / 1000;
  const after = await vb.stats();
  const emulated = (after.t_ns - before.t_ns) / 1e9;
  return {
    rate: run.rate,
    samples,
    delivered,
    status,
    reason,
    lost: run.stats.droppedTicks,
    crc: run.stats.crcErrors,
    bytes: after.to_host - before.to_host,
    wall,
    emulated,
    load: (after.busy_cycles - before.busy_cycles) / ((after.t_ns - before.t_ns) * 16e-3),
    valuesPerTick: recordStimulus ? 3 : 2,
  };
}

export default async function* (): AsyncIterable<Metric> {
  yield decodeBench();
  if (!virtualBoardAvailable()) throw new Error('virtual board not built: npm run setup');
  const seconds = Number(process.env.SPIKELOOP_DAQ_BENCH_SECONDS ?? 600);
  const vb = await VirtualBoard.start({ circuit: { kind: 'lif' }, speed: 1.5 });
  try {
    const echo = await sustained(vb, await highestRate(vb, true), 5, true);
    const long = await sustained(vb, await highestRate(vb, false), seconds, false);
    const ok = long.lost === 0 && long.status === 'completed' && long.delivered === 2 * long.samples;
    const echoNote = `with the stimulus echoed by the board (3 values per tick, its limit ${Math.floor(echo.rate)} S/s, 5 s emulated): ${echo.lost === 0 && echo.status === 'completed' ? 'zero loss' : `${echo.lost} of ${echo.samples} ticks lost`}`;
    yield {
      metric: 'daq_sustained_ks_2ch',
      value: ok ? long.rate / 1000 : 0,
      unit: 'kS/s per channel',
      note:
        `Uno image in simavr, A0 + A1 at ${long.rate} S/s each, 1 Mbaud, stimulus table on the same clock (recorded from the table): ` +
        `${ok ? 'zero loss' : `${long.lost} ticks lost, status ${long.status}${long.reason ? ` (${long.reason})` : ''}`} over ${long.emulated.toFixed(0)} s emulated ` +
        `(${long.delivered} samples) in ${long.wall.toFixed(0)} s wall; firmware CPU load ${(100 * long.load).toFixed(0)} %; ${echoNote}; target >= 20`,
    };
    const payloadBits = long.delivered * 10;
    yield {
      metric: 'daq_wire_efficiency',
      value: +(payloadBits / (long.bytes * 8)).toFixed(3),
      unit: 'payload bits / line bits',
      note: `${long.delivered} 10-bit samples in ${long.bytes} bytes on the wire (heartbeat replies included; UART start/stop bits excluded); target >= 0.9`,
    };
  } finally {
    await vb.close();
  }
}
