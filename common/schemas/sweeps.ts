/**
 * Sweeps over HTTP (server/api/routes/sweeps.ts; server/experiments/sweep-runner.ts, docs/protocols.md):
 * a sweep is a group of runs, one per point, each paired with the twin in bench mode.
 */
import { Type, type Static } from 'typebox';
import { MAX_SAMPLE_RATE } from '../limits.ts';
import type { FinalStatus } from '../run-stream.ts';
import { SweepSummarySchema } from './protocols.ts';
import { CircuitRefSchema, nullable, oneOf } from './shared.ts';

export const SWEEP_MODES = ['bench', 'twin'] as const;
export const SweepModeSchema = oneOf(SWEEP_MODES, { description: 'bench: measured runs (paired with the twin when a circuit is given); twin: the twin alone on all cores' });

/** `POST /api/sweeps` (and `spikeloop sweep`). */
export const SweepStartBodySchema = Type.Object(
  {
    // typed open (its other fields are checked by expandSweep, naming the field)
    sweep: Type.Unsafe<{ kind: 'sweep'; [field: string]: unknown }>(
      Type.Object({ kind: Type.Literal('sweep') }, { additionalProperties: true, description: 'Sweep document, see docs/protocols.md' }),
    ),
    mode: Type.Optional(oneOf(SWEEP_MODES, { default: 'bench' })),
    source: Type.Optional(Type.String({ maxLength: 32, description: 'bench mode: source kind of the measured runs' })),
    sampleRate: Type.Optional(Type.Number({ minimum: 1, maximum: MAX_SAMPLE_RATE })),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    circuit: Type.Optional(CircuitRefSchema),
    options: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "bench mode: the source's run options for every point's run, checked as POST /api/runs's (GET /api/sources options)",
      }),
    ),
  },
  { additionalProperties: false },
);

/** spike-stats of a point's run (its names in camelCase: n_spikes → nSpikes). */
export const PointStatsSchema = Type.Object({
  nSpikes: Type.Integer(),
  rateHz: Type.Number(),
  isiMeanS: nullable(Type.Number()),
  isiCv: nullable(Type.Number()),
  regime: Type.String({ description: 'quiescent | oscillatory | irregular | bursting | saturated' }),
});

export const SweepPointSchema = Type.Object(
  {
    index: Type.Integer(),
    label: Type.String(),
    values: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean()])),
    /** `interrupted`: the sweep's process ended before this point finished. */
    status: oneOf<'pending' | 'running' | FinalStatus>(['pending', 'running', 'completed', 'aborted', 'failed', 'interrupted']),
    runId: Type.Optional(Type.Integer()),
    /** bench mode with a circuit: the linked twin run. */
    twinRunId: Type.Optional(Type.Integer()),
    twinStatus: Type.Optional(oneOf(['pending', 'done', 'failed'] as const)),
    error: Type.Optional(Type.String()),
    /** spike-stats of the point's run and of its twin run, when stored (for the sweep curves). */
    stats: Type.Optional(PointStatsSchema),
    twinStats: Type.Optional(PointStatsSchema),
  },
  { additionalProperties: false },
);

export const SweepStatusSchema = Type.Object({
  id: Type.String(),
  label: Type.String(),
  mode: oneOf(SWEEP_MODES),
  state: oneOf(['running', 'completed', 'aborted', 'failed', 'interrupted'] as const, { description: 'interrupted: the server ended while it ran' }),
  reason: Type.Optional(Type.String()),
  summary: SweepSummarySchema,
  fraction: Type.Number({ description: 'Points finished (all their runs stored) / count' }),
  createdAt: Type.String(),
  endedAt: Type.Optional(Type.String()),
  points: Type.Array(SweepPointSchema),
});

export type SweepMode = (typeof SWEEP_MODES)[number];
export type SweepStartBody = Static<typeof SweepStartBodySchema>;
export type PointStats = Static<typeof PointStatsSchema>;
export type SweepPointStatus = Static<typeof SweepPointSchema>;
export type SweepStatus = Static<typeof SweepStatusSchema>;
export type SweepState = SweepStatus['state'];
