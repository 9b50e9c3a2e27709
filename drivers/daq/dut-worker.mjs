// Worker-thread side of the virtual board's lockstep circuit link (the `extern` circuit of
// firmware/harness/virtual_board.c; record layouts in its header). Loads the DUT stepper module named in
// workerData (a TypeScript module through tsx, from the sources; the compiled build's .js as it is), then serves the harness with blocking reads on the FIFOs: the
// harness stops emulating while it waits for a reply, so this thread must answer without an event loop.
//
// workerData: { module: URL of a module exporting createDutStepper(config), config, req, resp (FIFO paths) }
// Messages to the parent: { ready: true } once the stepper is built; { error } when it fails (then exits).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

if (String(workerData.module).endsWith('.ts')) (await import('tsx/esm/api')).register();
const REC = 24;
const X_HELLO = 0;
const X_STIM = 1;
const X_SAMPLE = 2;

let stepper;
try {
  const mod = await import(workerData.module);
  stepper = mod.createDutStepper(workerData.config);
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ error: err?.message ?? String(err) });
  process.exit(1);
}

const req = openSync(workerData.req, 'r'); // blocks until the harness opens its end
const buf = Buffer.alloc(REC * 1024);
const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let have = 0;
/** Reads at least one more byte; false on end of file (the harness went away). */
function fill() {
  if (have === buf.length) throw new Error('circuit link: request buffer overflow');
  for (;;) {
    try {
      const n = readSync(req, buf, have, buf.length - have, null);
      if (n === 0) return false;
      have += n;
      return true;
    } catch (err) {
      if (err.code === 'EAGAIN' || err.code === 'EINTR') continue;
      if (err.code === 'EOF') return false;
      throw err;
    }
  }
}

let resp = -1;
let cps = 16e6; // emulated cycles per second, from HELLO
const pins = new Float64Array(6);
const out = Buffer.from(pins.buffer);
try {
  serve: for (;;) {
    while (have < REC) if (!fill()) break serve;
    let off = 0;
    while (have - off >= REC) {
      const t = view.getFloat64(off, true);
      const value = view.getFloat64(off + 8, true);
      const kind = view.getInt32(off + 16, true);
      off += REC;
      if (kind === X_HELLO) {
        cps = value;
        if (resp < 0) resp = openSync(workerData.resp, 'w');
      } else if (kind === X_STIM) {
        stepper.setStimulus(t / cps, value);
      } else if (kind === X_SAMPLE) {
        pins.fill(0);
        stepper.pins(t / cps, pins);
        let done = 0;
        while (done < out.length) done += writeSync(resp, out, done, out.length - done);
      } else throw new Error(`circuit link: unknown record kind ${kind}`);
    }
    buf.copyWithin(0, off, have);
    have -= off;
  }
} catch (err) {
  // EPIPE (harness gone) ends the link quietly; anything else is the circuit's failure, reported
  if (err?.code !== 'EPIPE') parentPort.postMessage({ error: err?.message ?? String(err) });
} finally {
  closeSync(req);
  if (resp >= 0) closeSync(resp);
}
