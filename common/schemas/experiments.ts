/** Experiments across runs over HTTP (server/api/routes/experiments.ts; docs/experiments.md). */
import { Type, type Static } from 'typebox';
import { StdpResultSchema } from './analysis-results.ts';

/*
 * Runs per STDP curve, from measured cost: about 1.2 ms per run besides reading its samples (6-60 ns each),
 * so 256 runs cost about 0.3 s on a pool thread; their samples in all are capped as for the analyses.
 */
export const MAX_STDP_RUNS = 256;

/** `POST /api/experiments/stdp`: runs of the stdp protocol. */
export const StdpBodySchema = Type.Object(
  {
    runIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_STDP_RUNS }),
    channel: Type.Optional(Type.String({ maxLength: 64, description: 'Response channel name (default: the first response channel)' })),
  },
  { additionalProperties: false },
);

/**
 * The STDP curve answered by `POST /api/experiments/stdp` and `spikeloop analyze stdp <runIds> --json`: the
 * `stdp` analysis's result exactly as stored (one shape, snake_case: `run_id`, `g_before`, `g_after`; docs/analysis.md).
 */
export const StdpCurveSchema = StdpResultSchema;

export type StdpBody = Static<typeof StdpBodySchema>;
export type StdpCurve = Static<typeof StdpResultSchema>;
