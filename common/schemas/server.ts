/** The server itself over HTTP: liveness, run sources, where heavy work runs (docs/api.md). */
import { Type, type Static } from 'typebox';
import { oneOf } from './shared.ts';

/** `GET /api/health`. */
export const HealthSchema = Type.Object({ ok: Type.Boolean(), version: Type.String() });

/** `GET /api/sources`: a registered run source and whether it can run now. */
export const SourceInfoSchema = Type.Object({
  kind: Type.String(),
  title: Type.String(),
  available: Type.Boolean(),
  detail: Type.Optional(Type.String()),
  defaultSampleRate: Type.Optional(Type.Number({ description: 'S/s per channel used when a run names none' })),
  protocol: Type.Optional(
    Type.Object(
      {
        quantity: oneOf(['voltage', 'current']),
        levelScale: Type.Number({ description: 'factor from the protocol kinds\' default levels (A) to this quantity at the same drive' }),
        demo: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Protocol document (kind and parameters) New run starts with on this source: a first run that reads at a glance' })),
      },
      { description: 'The protocol quantity this source plays and records without conversion: the New run default' },
    ),
  ),
  twinCircuit: Type.Optional(Type.String({ description: 'Built-in twin circuit of the device this source measures: the default for pairing its runs' })),
  options: Type.Unknown({ description: 'JSON schema of the run options a request may give (titles, units, bounds; options only the CLI may give left out)' }),
});
export const SourcesSchema = Type.Object({ sources: Type.Array(SourceInfoSchema), default: Type.String() });

const Count = Type.Integer({ minimum: 0 });
/** The Redis queue as `serve --redis` sees it (server/workers/queue.ts, QueuePool.status): job counts, connected workers, running jobs. */
export const QueueStatusSchema = Type.Object({
  redis: Type.String({ description: 'The queue\'s URL, without credentials' }),
  counts: Type.Object({ waiting: Count, active: Count, completed: Count, failed: Count, delayed: Count }),
  workers: Type.Array(Type.Object({ name: Type.String(), addr: Type.String(), ageS: Type.Number() })),
  active: Type.Array(Type.Object({ id: Type.String(), task: Type.String(), worker: Type.Optional(Type.String()), attempts: Type.Integer() })),
});
/** `GET /api/workers`: `local` (this server's threads) or `queue` (`serve --redis`: the queue's status besides). */
export const WorkersSchema = Type.Object({
  mode: oneOf(['local', 'queue'] as const),
  threads: Type.Integer(),
  ...Type.Partial(QueueStatusSchema).properties,
});

export type Health = Static<typeof HealthSchema>;
export type SourceInfo = Static<typeof SourceInfoSchema>;
export type Sources = Static<typeof SourcesSchema>;
export type QueueStatus = Static<typeof QueueStatusSchema>;
export type Workers = Static<typeof WorkersSchema>;
