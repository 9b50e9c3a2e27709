/**
 * The stimulus of a CSV that states no roles, from its channel names (./roles.ts), and the reader using it
 * (./recording.ts): spikeloop's export layout, names like a stimulus, several or none, and the overrides.
 */
import { describe, expect, it } from 'vitest';
import { inferStimulus, stimulusLike } from './roles.ts';
import { readCsvRecording } from './recording.ts';

describe('stimulusLike', () => {
  it.each(['stim', 'Stim', 'STIM', 'stim1', 'I_stim', 'v_stim', 'stim_v', 'IStim', 'stimulus', 'Stimulus current', 'stimulation', 'in', 'input', 'Vin', 'VIn', 'v_in', 'I_in', 'iin', 'v_input', 'command', 'Cmd'])('%s is named like a stimulus', (name) => {
    expect(stimulusLike(name)).toBe(true);
  });
  it.each(['v_mem', 'resp', 'a0', 'CH1', '1', '2', 't_instr', 'estimate', 'stiffness', 'vin_out_ratio', 'signal in', 'i_syn', 'Ampl', 'mem_in_v', 'Vout', 'win', 'index'])('%s is not', (name) => {
    expect(stimulusLike(name)).toBe(false);
  });
});

describe('inferStimulus', () => {
  it("spikeloop's export layout: the channel named stim, even beside other stimulus-like names", () => {
    const r = inferStimulus(['v_mem', 'stim', 'i_stim_probe'], true);
    expect(r.stimulus).toBe(1);
    expect(r.note).toMatch(/^roles inferred: "stim" is the stimulus.*spikeloop's CSV export.*--stimulus <channel>.*--no-infer-roles$/);
    expect(r.note).not.toMatch(/=/);
  });
  it('the note names the overrides as the caller gives them: CLI flags, or the query fields of POST /api/import', () => {
    const api = inferStimulus(['v_mem', 'stim'], true, 'api').note!;
    expect(api).toMatch(/name the stimulus with stimulus=<channel>, or turn this off with inferRoles=false$/);
    expect(api).not.toMatch(/--/);
    const several = (naming: 'cli' | 'api') => inferStimulus(['stim_a', 'stim_b'], false, naming).note!;
    expect(several('cli')).toMatch(/name the stimulus with --stimulus <channel> or give/);
    expect(several('api')).toMatch(/name the stimulus with stimulus=<channel> or give/);
    expect(several('api')).not.toMatch(/--/);
  });
  it('the export layout without a stim channel falls back to the names', () => {
    expect(inferStimulus(['v_mem', 'I_in'], true)).toMatchObject({ stimulus: 1, note: expect.stringMatching(/"I_in" is the stimulus \(named like one\)/) });
  });
  it('one channel named like a stimulus in any CSV', () => {
    expect(inferStimulus(['Vout', 'Vin'], false)).toMatchObject({ stimulus: 1, note: expect.stringMatching(/^roles inferred: "Vin"/) });
    // outside the export layout "stim" is just one more stimulus-like name
    expect(inferStimulus(['stim', 'v_mem'], false).stimulus).toBe(0);
  });
  it('several named like a stimulus: none taken, the note names them', () => {
    const r = inferStimulus(['stim_a', 'stim_b', 'v'], false);
    expect(r.stimulus).toBeNull();
    expect(r.note).toMatch(/^roles not inferred: "stim_a", "stim_b" are all named like a stimulus/);
  });
  it('scope channels (CH1, 1, Ampl): nothing inferred, nothing to say', () => {
    expect(inferStimulus(['CH1', 'CH2'], false)).toEqual({ stimulus: null, note: null });
    expect(inferStimulus(['1', '2'], false)).toEqual({ stimulus: null, note: null });
    expect(inferStimulus(['v_mem', 'resp'], true)).toEqual({ stimulus: null, note: null });
  });
});

describe('a CSV read without roles', () => {
  const exported = 'time_s,stim (A),v_mem (V)\n0,0,-0.07\n0.00002,1e-9,-0.069\n0.00004,1e-9,-0.068\n';
  const roles = (text: string, opts = {}) => readCsvRecording(text, 'x.csv', opts).channels.map((c) => [c.name, c.unit, c.role]);

  it("spikeloop's export header: stim is the stimulus, and the notes say it was inferred", () => {
    const r = readCsvRecording(exported, 'run-3.csv');
    expect(r.channels.map((c) => [c.name, c.unit, c.role])).toEqual([['stim', 'A', 'stimulus'], ['v_mem', 'V', 'response']]);
    expect(r.notes).toEqual([expect.stringMatching(/^roles inferred: "stim" is the stimulus/)]);
  });
  it('a plain CSV with a stimulus-like column', () => {
    expect(roles('t,Vout,Vin\n0,1,2\n1,1,2\n')).toEqual([['Vout', '', 'response'], ['Vin', '', 'stimulus']]);
  });
  it('the overrides: --stimulus names another channel (no inference), --no-infer-roles leaves every channel a response', () => {
    const named = readCsvRecording(exported, 'x.csv', { stimulus: 'v_mem' });
    expect(named.channels.map((c) => c.role)).toEqual(['response', 'stimulus']);
    expect(named.notes).toEqual([]);
    const off = readCsvRecording(exported, 'x.csv', { inferRoles: false });
    expect(off.channels.map((c) => c.role)).toEqual(['response', 'response']);
    expect(off.notes).toEqual([]);
  });
  it("the export's sidecar decides, not the names", () => {
    const sidecar = {
      spikeloop_export: 1,
      format: 'csv',
      channels: [
        { name: 'stim', unit: 'A', role: 'response', sample_rate_hz: 50_000, scale: 1, offset: 0 },
        { name: 'v_mem', unit: 'V', role: 'stimulus', sample_rate_hz: 50_000, scale: 1, offset: 0 },
      ],
    };
    const r = readCsvRecording(exported, 'x.csv', { sidecar });
    expect(r.channels.map((c) => c.role)).toEqual(['response', 'stimulus']);
    expect(r.notes).toEqual([]);
  });
});
