/**
 * Importing a recording made elsewhere: read it (./recording.ts), then record it as a run (source `import`,
 * protocol kind `recording`) through the one run manager. The file is read and checked whole before the run
 * exists, and a run whose recording did not complete is deleted: a refused file leaves nothing stored.
 */
import path from 'node:path';
import type { RunManager } from '../runs/run-manager.ts';
import type { RunDetail } from '../store/run-store.ts';
import { importable } from '../sources/import-source.ts';
import { onAbort } from '../workers/abort.ts';
import { ImportError, type Recording } from './recording.ts';

export { ImportError, parseSidecar, readRecording, IMPORT_FORMATS, MAX_IMPORT_BYTES, type ImportFormat, type ReadOptions, type Recording } from './recording.ts';

/** The protocol document an imported run carries (kind `recording`). */
export function recordingProtocol(rec: Recording, file: string) {
  const stim = rec.channels.find((c) => c.role === 'stimulus');
  // no stimulus channel (roles off, or none named like one): no range, min and max null
  let min: number | null = null;
  let max: number | null = null;
  if (stim) {
    min = Infinity;
    max = -Infinity;
    for (const v of stim.values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return {
    kind: 'recording',
    quantity: stim?.unit === 'A' ? 'current' : 'voltage',
    durationS: rec.channels[0].values.length / rec.sampleRate,
    file: path.basename(file),
    format: rec.format,
    vendor: rec.vendor,
    stimulusChannel: stim?.name ?? null,
    min,
    max,
    ...(rec.origin ? { exportedRun: { id: rec.origin.runId, protocol: rec.origin.protocol } } : {}),
  };
}

/** Records a recording read from `file` (readRecording) as a completed run; returns the run. `signal` stops it (nothing stored). */
export async function importRecording(runs: RunManager, rec: Recording, file: string, opts: { label?: string; signal?: AbortSignal } = {}): Promise<RunDetail> {
  opts.signal?.throwIfAborted();
  const started = await runs.start({
    protocol: recordingProtocol(rec, file),
    source: 'import',
    sampleRate: rec.sampleRate,
    label: opts.label ?? rec.origin?.label ?? path.basename(file),
    options: { recording: importable(rec) },
  });
  // onAbort also stops a run whose caller went away while it was being created (a listener added then never fires)
  const unwatch = onAbort(opts.signal, () => void runs.stop(started.id, String(opts.signal?.reason?.message ?? opts.signal?.reason ?? 'stopped')).catch(() => undefined));
  const stop = await runs.waitForEnd(started.id).finally(unwatch);
  const run = runs.store.getRun(started.id)!;
  if (run.status !== 'completed') {
    runs.store.deleteRun(started.id);
    throw new ImportError(`${path.basename(file)}: recording the import failed (${stop?.reason ?? run.reason ?? run.status}); nothing was stored`);
  }
  // an export's run: its notes, then where they came from; else what the reader inferred rather than read (a
  // CSV's stimulus from its names) is the run's first notes
  const o = rec.origin;
  const from = o && `Imported from ${o.runId === null ? 'a spikeloop run' : `run ${o.runId}`}'s export (${path.basename(file)}).`;
  const notes = [...(o?.notes ? [o.notes] : []), ...(from ? [from] : []), ...(rec.notes ?? [])];
  if (o?.tags.length) runs.store.setTags(started.id, o.tags);
  if (notes.length) runs.store.setNotes(started.id, notes.join('\n'));
  return runs.store.getRun(started.id)!;
}
