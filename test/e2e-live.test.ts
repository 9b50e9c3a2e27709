/**
 * End to end over real HTTP and WebSocket (a listening server on 127.0.0.1, port 0): start a run, receive
 * live blocks, stop it, read it back bit-exact against the regenerated deterministic source, export CSV
 * and NPY and read them back (NPY header parsed here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifBench } from '../server/sources/simulated-bench.ts';
import { validateProtocol } from '../server/protocols/index.ts';
import { collect, json, startServer, type LiveMessage, type TestServer } from './helpers-live.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv?.close();
});

/** Parses a NumPy .npy (format 1.0/2.0) file: dtype descr, shape, and the data bytes. */
function parseNpy(buf: Buffer): { descr: string; shape: number[]; fortran: boolean; data: Buffer } {
  expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  expect((start + headerLen) % 64).toBe(0);
  expect(header.endsWith('\n')).toBe(true);
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)![1] === 'True';
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, shape, fortran, data: buf.subarray(start + headerLen) };
}

describe('live run end to end', () => {
  it('start, live blocks, stop, bit-exact read-back, CSV and NPY export', async () => {
    const rate = 200_000;
    const protocolDoc = { kind: 'square', durationS: 30, amplitude: 1e-3, frequencyHz: 1000 };
    const created = await json(
      await srv.fetch(`/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol: protocolDoc, sampleRate: rate, label: 'e2e' }) }),
    );
    expect(created.status).toBe(201);
    const id = created.body.run.id as number;
    expect(created.body.run.status).toBe('running');

    const live = collect(srv.wsUrl(`/api/runs/${id}/live`));
    await live.opened;
    const blocksOf = (m: LiveMessage[], ch: number) => m.filter((x) => x.type === 'block' && x.channel === ch);
    await live.until((m) => blocksOf(m, 0).length >= 4 && blocksOf(m, 1).length >= 4 && m.some((x) => x.type === 'events' && (x.events as unknown[]).length > 0));
    const hello = live.messages[0] as { type: string; run: { id: number; channels: { name: string; role: string; sampleRate: number; unit: string }[] } };
    expect(hello.type).toBe('hello');
    expect(hello.run.id).toBe(id);
    expect(hello.run.channels.map((c) => [c.name, c.role, c.sampleRate, c.unit])).toEqual([
      ['stim', 'stimulus', rate, 'A'],
      ['v_mem', 'response', rate, 'V'],
    ]);

    const stopped = await json(await srv.fetch(`/api/runs/${id}/stop`, { method: 'POST' }));
    expect(stopped.status).toBe(200);
    expect(stopped.body.run).toMatchObject({ status: 'aborted', reason: 'stopped by user' });
    expect(await live.closed).toBe(1000);
    const last = live.messages.at(-1)!;
    expect(last).toEqual({ type: 'stop', status: 'aborted', reason: 'stopped by user' });

    // Read back: every sample bit-exact against the regenerated source.
    const run = (await json(await srv.fetch(`/api/runs/${id}`))).body.run;
    const n = run.channels[1].sampleCount as number;
    expect(n).toBeGreaterThan(0);
    expect(run.channels[0].sampleCount).toBe(n);
    expect(run.dropped).toEqual([]);
    const gen = new LifBench(validateProtocol(protocolDoc), rate);
    const expected = gen.next(n);
    for (const [ch, want] of [[0, expected.stim], [1, expected.resp]] as const) {
      // In windows within the API's per-request limit: on a loaded machine the run may outgrow one request.
      const parts: Buffer[] = [];
      for (let start = 0; start < n; start += 1_000_000) {
        const end = Math.min(n, start + 1_000_000);
        const res = await srv.fetch(`/api/runs/${id}/channels/${ch}/raw?start=${start}&end=${end}`, { headers: { accept: 'application/octet-stream' } });
        expect(res.status).toBe(200);
        expect(JSON.parse(res.headers.get('x-segments')!)).toEqual([[start, end - start]]);
        parts.push(Buffer.from(await res.arrayBuffer()));
      }
      expect(Buffer.concat(parts).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
    }
    // JSON form of a small range.
    const raw = (await json(await srv.fetch(`/api/runs/${id}/channels/1/raw?start=10&end=20`))).body;
    expect(raw.segments).toEqual([{ start: 10, samples: Array.from(expected.resp.subarray(10, 20)) }]);

    // Live blocks: each min/max pair is the min/max of its stride samples, in physical units.
    const scale = [gen.channels[0].scale, gen.channels[1].scale];
    const testStart = Date.parse(created.body.run.createdAt) - 1000;
    for (const b of live.messages.filter((x) => x.type === 'block') as unknown as { channel: 0 | 1; firstIndex: number; stride: number; min: number[]; max: number[]; wallTime: number }[]) {
      // Stamped with the server's wall clock when the block's newest sample arrived.
      expect(b.wallTime).toBeGreaterThanOrEqual(testStart);
      expect(b.wallTime).toBeLessThanOrEqual(Date.now());
      const codes = b.channel === 0 ? expected.stim : expected.resp;
      b.min.forEach((mn, k) => {
        const a = b.firstIndex + k * b.stride;
        const seg = Array.from(codes.subarray(a, Math.min(n, a + b.stride)));
        expect(mn).toBeCloseTo(Math.min(...seg) * scale[b.channel], 12);
        expect(b.max[k]).toBeCloseTo(Math.max(...seg) * scale[b.channel], 12);
      });
    }
    // Live events come batched, one message per flush, and are the regenerated spikes.
    const batches = live.messages.filter((x) => x.type === 'events') as unknown as { events: { kind: string; index: number }[]; dropped: number }[];
    for (const b of batches) expect(b.dropped).toBe(0);
    expect(batches.some((b) => b.events.length > 1)).toBe(true);
    const liveSpikes = batches.flatMap((b) => b.events.map((e) => e.index));
    const spikeIdx = expected.spikes.map((s) => s.index);
    expect(liveSpikes).toEqual(spikeIdx.slice(spikeIdx.indexOf(liveSpikes[0] as number), spikeIdx.indexOf(liveSpikes[0] as number) + liveSpikes.length));
    const events = (await json(await srv.fetch(`/api/runs/${id}/events?kind=spike&limit=100000`))).body.events as { index: number; channel: number }[];
    expect(events.map((e) => e.index)).toEqual(spikeIdx);

    // Envelope of the whole run.
    const env = (await json(await srv.fetch(`/api/runs/${id}/channels/1/envelope?pixels=50`))).body;
    expect(env.pixels).toBe(50);
    expect(Math.max(...env.max)).toBeCloseTo(1.0, 3); // spikes drawn at V_spike
    expect(env.unit).toBe('V');

    // CSV export.
    const csv = await srv.fetch(`/api/runs/${id}/export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain(`run-${id}.csv`);
    const lines = (await csv.text()).trimEnd().split('\n');
    expect(lines[0]).toBe('time_s,stim (A),v_mem (V)');
    expect(lines.length).toBe(n + 1);
    for (const i of [0, 1, 499, 500, n - 1]) {
      const [t, s, v] = lines[i + 1].split(',').map(Number);
      expect(t).toBe(i / rate);
      expect(s).toBe(expected.stim[i] * scale[0]);
      expect(v).toBe(expected.resp[i] * scale[1]);
    }

    // NPY export, one channel per request.
    for (const [ch, want] of [[0, expected.stim], [1, expected.resp]] as const) {
      const res = await srv.fetch(`/api/runs/${id}/export?format=npy&channel=${ch}&raw=true`);
      expect(res.status).toBe(200);
      const npy = parseNpy(Buffer.from(await res.arrayBuffer()));
      expect(npy).toMatchObject({ descr: '<i2', shape: [n], fortran: false });
      const data = new Int16Array(npy.data.buffer.slice(npy.data.byteOffset, npy.data.byteOffset + npy.data.byteLength));
      expect(data.length).toBe(n);
      expect(Buffer.from(data.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }

    // A client connecting to the finished run gets hello then stop, and a clean close.
    const late = collect(srv.wsUrl(`/api/runs/${id}/live`));
    expect(await late.closed).toBe(1000);
    expect(late.messages.map((m) => m.type)).toEqual(['hello', 'stop']);
    expect(late.messages[1]).toMatchObject({ status: 'aborted', reason: 'stopped by user' });
    // hello's run is the RunDetail GET /api/runs/:id answers, field for field (it carried the store's startedAt too)
    const detail = (await json(await srv.fetch(`/api/runs/${id}`))).body.run;
    const lateHello = late.messages[0];
    if (lateHello.type !== 'hello') throw new Error(`first message ${lateHello.type}`);
    expect(Object.keys(lateHello.run as object).sort()).toEqual(Object.keys(detail as object).sort());
  });

  it('a run that completes by itself ends the live feed with stop completed', async () => {
    const created = await json(
      await srv.fetch(`/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol: { kind: 'sine', durationS: 2, frequencyHz: 50 }, sampleRate: 10_000 }) }),
    );
    // 2 s, so that a loaded machine still connects and changes the rate while the run is live.
    const live = collect(srv.wsUrl(`/api/runs/${created.body.run.id}/live`));
    // The client asks for full resolution: stride 1 at 10 kS/s.
    await live.opened;
    live.ws.send('not json');
    live.ws.send(JSON.stringify({ type: 'rate', pairsPerSecond: -4 }));
    live.ws.send(JSON.stringify({ type: 'rate', pairsPerSecond: 20_000 }));
    expect(await live.closed).toBe(1000);
    // Bad client messages are answered, and change nothing.
    const errors = live.messages.filter((m) => m.type === 'error').map((m) => (m.error as { code: string }).code);
    expect(errors).toEqual(['MALFORMED_JSON', 'VALIDATION']);
    expect(live.messages.at(-1)).toMatchObject({ type: 'stop', status: 'completed' });
    expect(live.messages.some((m) => m.type === 'rate' && m.pairsPerSecond === 20_000)).toBe(true);
    expect(live.messages.some((m) => m.type === 'block' && m.stride === 1)).toBe(true);
    // Blocks tile the channel: consecutive, no overlap, up to the last sample.
    const blocks = live.messages.filter((m) => m.type === 'block' && m.channel === 1) as unknown as { firstIndex: number; stride: number; min: number[] }[];
    for (let i = 1; i < blocks.length; i++) {
      const prev = blocks[i - 1];
      expect(blocks[i].firstIndex).toBe(prev.firstIndex + prev.stride * prev.min.length);
    }
    const lastBlock = blocks.at(-1)!;
    expect(lastBlock.firstIndex + lastBlock.stride * lastBlock.min.length).toBe(20_000);
  });

  it('refuses a live feed for an unknown run with 404 before the upgrade', async () => {
    const ws = collect(srv.wsUrl(`/api/runs/999999/live`));
    const err = await ws.opened.catch((e: Error) => e);
    expect(String(err)).toMatch(/404/);
  });
});
