/**
 * The import source (kind 'import'): replays a recording read by server/import into the run stream, so an
 * imported file becomes a run like any other (store, live feed, analyses, Compare, twin pairing). It takes
 * only recordings the importer vouched for (`importable`), never options that arrived as JSON.
 */
import { AppError } from '../../common/errors.ts';
import { EVENT_KINDS, type SourceMessage } from '../../common/run-stream.ts';
import type { Recording } from '../import/recording.ts';
import type { SourceRegistry } from './registry.ts';
import { Type } from 'typebox';

const BLOCK = 1 << 16;
/** Events between two yields to the event loop: each goes through the run manager and the recorder one by one (4096 take ~30 ms on a loaded machine; 65536 held it 0.5 s). */
const EVENT_BATCH = 1 << 12;
const vouched = new WeakSet<Recording>();

/** Marks a recording as read by the importer (server/import/index.ts); the source refuses any other. */
export function importable(rec: Recording): Recording {
  vouched.add(rec);
  return rec;
}

export function register(registry: SourceRegistry): void {
  registry.registerSource('import', {
    title: 'Imported recording (spikeloop import, POST /api/import)',
    // a recording this process parsed and vouched for; anything sent over the network is refused in create()
    options: Type.Object({ recording: Type.Optional(Type.Unknown({ title: 'Recording', description: 'Set by spikeloop import and POST /api/import only' })) }, { additionalProperties: false }),
    available: async () => ({ available: true }),
    maxSampleRate: 1e12,
    create: (ctx) => {
      const rec = ctx.options?.recording as Recording | undefined;
      if (!rec || !vouched.has(rec)) throw new AppError('BAD_SOURCE_OPTIONS', 'the import source takes files through `spikeloop import` or POST /api/import', '/options/recording');
      return {
        kind: 'import',
        bench: { imported: { file: (ctx.protocol as { file?: string }).file, format: rec.format, vendor: rec.vendor, rateFrom: rec.rateFrom, t0: rec.t0, header: rec.header } },
        async *messages(signal: AbortSignal): AsyncGenerator<SourceMessage> {
          yield {
            type: 'descriptor',
            channels: rec.channels.map((c) => ({ name: c.name, unit: c.unit, sampleRate: rec.sampleRate, dtype: 'float64', scale: 1, offset: 0, role: c.role })),
          };
          const n = rec.channels[0].values.length;
          for (let a = 0; a < n && !signal.aborted; a += BLOCK) {
            for (let c = 0; c < rec.channels.length; c++) {
              yield { type: 'block', channel: c, firstIndex: a, samples: rec.channels[c].values.slice(a, Math.min(n, a + BLOCK)) };
            }
            // the blocks are all here already: let the server answer between them (a 10⁸-sample file takes seconds)
            await new Promise<void>((r) => setImmediate(r));
          }
          // the run's events, read with the file (server/import/events.ts), stored by the recorder as a measured run's
          const ev = rec.events;
          for (let i = 0; ev && i < ev.kind.length && !signal.aborted; i++) {
            yield {
              type: 'event',
              kind: EVENT_KINDS[ev.kind[i]],
              index: ev.index[i],
              ...(ev.channel[i] >= 0 ? { channel: ev.channel[i] } : {}),
              ...(Number.isNaN(ev.timeS[i]) ? {} : { timeS: ev.timeS[i] }),
              ...(Number.isNaN(ev.value[i]) ? {} : { value: ev.value[i] }),
              ...(ev.label[i] === null ? {} : { label: ev.label[i]! }),
            };
            if (i % EVENT_BATCH === EVENT_BATCH - 1) await new Promise<void>((r) => setImmediate(r));
          }
        },
      };
    },
  });
}
