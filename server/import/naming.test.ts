/**
 * The reader's messages name an option the way its caller takes it (ReadOptions.naming, ./csv.ts importOption):
 * `spikeloop import`'s flags, or POST /api/import's query fields with the field pointer /query/<name>. And the
 * protocol an import without a stimulus channel records: no range (min and max null), valid as a `recording`.
 */
import { describe, expect, it } from 'vitest';
import { protocolSummary, validateProtocol } from '../protocols/index.ts';
import { ImportError } from './csv.ts';
import { parseSidecar, readRecording, recordingProtocol } from './index.ts';

const noClock = Buffer.from('index,v\n0,1\n1,2\n2,3\n');
const clocked = Buffer.from('time,v\n0,1\n0.001,2\n0.002,3\n');
const npy = Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, 70, 0]), Buffer.from(`{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }`.padEnd(70)), Buffer.alloc(16)]);

/** The refusal readRecording gives (an ImportError). */
async function refusal(buf: Buffer, opts: Parameters<typeof readRecording>[2]): Promise<ImportError> {
  const err = await readRecording(buf, 'a.csv', opts).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ImportError);
  return err as ImportError;
}

describe('a refused option, named as the caller gives it', () => {
  const cases: [string, Buffer, Parameters<typeof readRecording>[2], string, string, string][] = [
    ['no rate (CSV)', noClock, {}, 'give the rate with --rate <Hz>', 'give the rate with rate=<Hz>', '/query/rate'],
    ['no rate (NPY)', npy, {}, 'give it with --rate <Hz>', 'give it with rate=<Hz>', '/query/rate'],
    ['a rate the time column disagrees with', clocked, { rate: 5 }, '--rate 5 Hz disagrees with the file\'s time column (1000 Hz); leave --rate out', 'rate=5 Hz disagrees with the file\'s time column (1000 Hz); leave rate= out', '/query/rate'],
    ['no such stimulus channel', clocked, { stimulus: 'nope' }, '--stimulus nope: no such channel', 'stimulus=nope: no such channel', '/query/stimulus'],
    ['a format the file is not', npy, { format: 'csv' }, '--format csv, but the file is an NPY file', 'format=csv, but the file is an NPY file', '/query/format'],
  ];
  it.each(cases)('%s', async (_, buf, opts, cli, api, field) => {
    const c = await refusal(buf, opts);
    expect(c.message).toContain(cli);
    expect(c.field).toBe(field);
    const a = await refusal(buf, { ...opts, naming: 'api' });
    expect(a.message).toContain(api);
    expect(a.message).not.toMatch(/--/);
    expect(a).toMatchObject({ code: 'BAD_IMPORT', field });
  });
  it('a file fault stays /body; a sidecar that is not JSON is the sidecar option\'s fault', async () => {
    expect((await refusal(Buffer.from('time,a,b\n0,1,2\n0.001,1\n'), { naming: 'api' })).field).toBe('/body');
    expect(() => parseSidecar('{not json', 'a.csv')).toThrow(expect.objectContaining({ code: 'BAD_IMPORT', field: '/query/sidecar', message: expect.stringMatching(/^a\.csv: the sidecar is not JSON/) }));
  });
});

describe('the recording protocol of an import without a stimulus channel', () => {
  it('has no range: min and max null, valid, and 0 for the bench limits; with a stimulus its range', async () => {
    const text = Buffer.from('time,stim (V),v_mem (V)\n0,-0.2,1\n0.001,0.5,2\n0.002,0.1,3\n');
    const off = recordingProtocol(await readRecording(text, 'a.csv', { inferRoles: false }), 'a.csv');
    expect(off).toMatchObject({ kind: 'recording', stimulusChannel: null, min: null, max: null });
    const p = validateProtocol(off);
    expect(p).toMatchObject({ min: null, max: null });
    expect(protocolSummary(p)).toMatchObject({ min: 0, max: 0 });
    const on = recordingProtocol(await readRecording(text, 'a.csv'), 'a.csv');
    expect(on).toMatchObject({ stimulusChannel: 'stim', min: -0.2, max: 0.5 });
    expect(protocolSummary(validateProtocol(on))).toMatchObject({ min: -0.2, max: 0.5 });
  });
});
