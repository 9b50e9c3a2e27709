/**
 * The host decoder against the firmware's C protocol code (built by scripts/setup.d/20-firmware.sh), and
 * 10^5 random and mutated frames thrown at it: no exception escapes, every bad frame is counted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, cobsEncode, crc16, encodeFrame, unpackData } from '../drivers/daq/protocol.ts';
import { FIRMWARE_BUILD } from '../drivers/daq/virtual.ts';
import { Rng } from '../common/random.ts';

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

describe('DAQ wire protocol', () => {
  it('C unit tests pass and the TS codec matches the C encoder byte for byte', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-daq-'));
    try {
      const file = path.join(dir, 'frames.txt');
      const out = execFileSync(path.join(FIRMWARE_BUILD, 'test_protocol'), ['--emit', file], { encoding: 'utf8' });
      expect(out).toMatch(/^ok \d+ checks/);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.length).toBe(40);
      const bodies: Uint8Array[] = [];
      const dec = new FrameDecoder((b, n) => bodies.push(b.slice(0, n)));
      for (const line of lines) {
        const [body, wire] = line.split(' ').map(hex);
        expect(Buffer.from(cobsEncode(body)).toString('hex')).toBe(Buffer.from(wire).toString('hex'));
        expect(crc16(body, 0, body.length - 2)).toBe(body[body.length - 2] | (body[body.length - 1] << 8));
        // delivered in 1..10-byte pieces, as serial reads arrive
        const r = new Rng(wire.length);
        for (let i = 0; i < wire.length; ) {
          const k = 1 + Math.floor(r.next() * 10);
          dec.push(wire.subarray(i, i + k));
          i += k;
        }
        expect(Buffer.from(bodies.at(-1)!).toString('hex')).toBe(Buffer.from(body).toString('hex'));
      }
      expect(dec.stats).toMatchObject({ frames: 40, crcErrors: 0, framingErrors: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unpacks 10-bit LSB-first samples', () => {
    // values 0x3ff, 0x001, 0x155, 0x2aa packed by hand: bits LSB first
    const vals = [0x3ff, 0x001, 0x155, 0x2aa];
    let bits = 0n;
    vals.forEach((v, i) => (bits |= BigInt(v) << BigInt(10 * i)));
    const payload = new Uint8Array(4 + 5);
    payload.set([7, 0, 0, 0]);
    for (let i = 0; i < 5; i++) payload[4 + i] = Number((bits >> BigInt(8 * i)) & 0xffn);
    const out = [new Uint16Array(2), new Uint16Array(2)];
    expect(unpackData(payload, 0, payload.length, 10, 2, out)).toEqual({ firstIndex: 7, ticks: 2 });
    expect([out[0][0], out[1][0], out[0][1], out[1][1]]).toEqual(vals);
  });

  it('survives 10^5 random and mutated frames, counting every bad one', () => {
    const r = new Rng(0xda9);
    let good = 0;
    const dec = new FrameDecoder(() => good++);
    let expectedGood = 0;
    let expectedBad = 0;
    let thrown = 0;
    for (let i = 0; i < 100_000; i++) {
      const len = Math.floor(r.next() * 200);
      const payload = Uint8Array.from({ length: len }, () => (r.next() < 0.2 ? 0 : Math.floor(r.next() * 256)));
      const frame = encodeFrame(0x83, i & 0xff, payload);
      const kind = Math.floor(r.next() * 5);
      let wire: Uint8Array = frame;
      if (kind === 0) {
        expectedGood++;
      } else if (kind === 1) {
        // one flipped bit in the body part (never creating/removing a zero: flip bit of a non-delimiter byte
        // to another non-zero value; or the result would be a framing split, also counted below)
        wire = frame.slice();
        const at = Math.floor(r.next() * (wire.length - 1));
        let v = wire[at] ^ (1 << Math.floor(r.next() * 8));
        if (v === 0) v = wire[at] ^ 0xff || 1;
        wire[at] = v;
        expectedBad++;
      } else if (kind === 2) {
        // truncated: the tail lost, delimiter kept
        const cut = 1 + Math.floor(r.next() * (frame.length - 2));
        wire = new Uint8Array(frame.length - cut);
        wire.set(frame.subarray(0, frame.length - 1 - cut));
        expectedBad++;
      } else if (kind === 3) {
        // random garbage, no zero inside, then a delimiter
        wire = new Uint8Array(2 + Math.floor(r.next() * 300));
        for (let j = 0; j < wire.length - 1; j++) wire[j] = 1 + Math.floor(r.next() * 255);
        expectedBad++;
      } else {
        // one byte duplicated
        const at = Math.floor(r.next() * (frame.length - 1));
        wire = new Uint8Array(frame.length + 1);
        wire.set(frame.subarray(0, at + 1));
        wire.set(frame.subarray(at), at + 1);
        expectedBad++;
      }
      // arbitrary chunking
      for (let k = 0; k < wire.length; ) {
        const n = 1 + Math.floor(r.next() * 64);
        try {
          dec.push(wire.subarray(k, k + n));
        } catch {
          thrown++;
        }
        k += n;
      }
    }
    const s = dec.stats;
    expect(thrown).toBe(0);
    // a mutated frame can in principle pass CRC-16 (1 in 65536); allow that, nothing else
    expect(good).toBeGreaterThanOrEqual(expectedGood);
    expect(good - expectedGood).toBeLessThanOrEqual(3);
    expect(s.frames).toBe(good);
    expect(s.crcErrors + s.framingErrors).toBe(expectedBad - (good - expectedGood));
  });
});
