/**
 * Analyses over HTTP (see docs/analysis.md):
 *
 *   GET  /api/runs/:id/analyses?name=          stored analysis results of a run, newest first
 *   POST /api/runs/:id/analyses/:method        run spikes|bursts|avalanches|psd|resonance|regime|compare on a
 *                                              stored run (body: the method's parameters; compare needs
 *                                              `with`: the simulated run id). Stored with the run; the same
 *                                              method and parameters again return the stored result
 *                                              (`cached: true`) unless ?recompute=true.
 *   POST /api/analysis/powerlaw                {values, kind?, xmin?, minTail?, bootstrap?, seed?, compare?}
 *   POST /api/analysis/distance                {trains, metric, tau?, q?, tStart?, tEnd?}
 *   POST /api/analysis/stdp                    {pairs: [{dt, dw}], tauMin?, tauMax?}
 *   POST /api/analysis/resonance               {points: [{frequency, response}], onsetFraction?}
 *   POST /api/analysis/regime                  {runIds, param?, values?, ...regime parameters}: phase diagram
 *
 * Analyses compute in the request (the bootstrap in worker threads). Input problems (too few spikes, bad
 * parameters) are 400 VALIDATION errors naming the problem.
 */
import { AppError, runNotFound, runActive } from '../../../common/errors.ts';
import { Type, type TProperties } from '@fastify/type-provider-typebox';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';
import { InputError, readRunSignal } from '../../analyze/inputs.ts';
import {
  analyzeRun,
  avalanchesMethod,
  burstsMethod,
  compareMethod,
  linkedRun,
  psdMethod,
  regimeMethod,
  resonanceMethod,
  resonanceRunsMethod,
  spikesMethod,
  stdpMethod,
  toJson,
} from '../../analyze/methods.ts';
import { comparePowerLaw, fitPowerLaw } from '../../analysis/powerlaw.ts';
import { distanceMatrix } from '../../analysis/distances.ts';
import { resonanceSweep } from '../../analysis/resonance.ts';
import { fitStdp } from '../../analysis/stdp.ts';
import { powerLawPValueParallel } from '../../analyze/bootstrap.ts';

const pos = (description: string) => Type.Number({ exclusiveMinimum: 0, description });
const nonneg = (description: string) => Type.Number({ minimum: 0, description });
const band = (description: string) => Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ exclusiveMinimum: 0 })], { description });

const spikeProps = {
  channel: Type.Optional(Type.String({ description: 'Channel name; default every response channel' })),
  threshold: Type.Optional(Type.Union([Type.Literal('robust'), Type.Literal('sd'), Type.Literal('absolute')], { description: 'robust = k·median(|x|)/0.6745' })),
  k: Type.Optional(pos('Threshold multiplier (default 5)')),
  value: Type.Optional(Type.Number({ description: 'Absolute threshold, physical unit' })),
  polarity: Type.Optional(Type.Union([Type.Literal('positive'), Type.Literal('negative'), Type.Literal('both')])),
  refractory: Type.Optional(nonneg('Dead time after a spike, s (default 0.001)')),
  bandpass: Type.Optional(band('[low, high] Hz, zero-phase Butterworth')),
  switching: Type.Optional(Type.Boolean({ description: 'Detect switching events on dG/dt' })),
  events: Type.Optional(Type.Boolean({ description: 'Use the spike events stored with the run instead of detecting spikes' })),
};
const burstProps = {
  method: Type.Optional(Type.Union([Type.Literal('max-interval'), Type.Literal('log-isi')])),
  maxBeginIsi: Type.Optional(nonneg('s')),
  maxEndIsi: Type.Optional(nonneg('s')),
  minIbi: Type.Optional(nonneg('s')),
  minDuration: Type.Optional(nonneg('s')),
  minSpikes: Type.Optional(Type.Integer({ minimum: 2 })),
};
const regimeProps = {
  minRate: Type.Optional(nonneg('Hz')),
  maxActiveFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  saturationRate: Type.Optional(pos('Hz')),
  minBurstFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  minBurstCv: Type.Optional(nonneg('')),
  maxRegularCv: Type.Optional(nonneg('')),
  oscillationRatio: Type.Optional(Type.Number({ minimum: 1 })),
};
const obj = <T extends TProperties>(props: T) => Type.Object(props, { additionalProperties: false });

const BODIES = {
  spikes: obj({ ...spikeProps, modes: Type.Optional(Type.Boolean()), maxK: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })) }),
  bursts: obj({ ...spikeProps, ...burstProps }),
  avalanches: obj({ ...spikeProps, binWidth: Type.Optional(pos('s')), minTail: Type.Optional(Type.Integer({ minimum: 2 })) }),
  psd: obj({
    channel: Type.Optional(Type.String()),
    segment: Type.Optional(Type.Integer({ minimum: 2, maximum: 2 ** 26 })),
    band: Type.Optional(band('Hz')),
    peaks: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    oscillationRatio: Type.Optional(Type.Number({ minimum: 1 })),
  }),
  resonance: obj({
    ...spikeProps,
    f0: Type.Number({ minimum: 0, description: 'Chirp start frequency, Hz' }),
    f1: Type.Number({ minimum: 0, description: 'Chirp end frequency, Hz' }),
    chirpStart: Type.Optional(nonneg('s')),
    chirpDuration: Type.Optional(pos('s')),
    windows: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000 })),
    onsetFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  }),
  regime: obj({ ...spikeProps, ...burstProps, ...regimeProps }),
  compare: obj({
    ...spikeProps,
    with: Type.Optional(Type.Integer({ minimum: 1, description: 'Run id of the simulated (twin) run; default: the twin run linked to this run' })),
    simChannel: Type.Optional(Type.String()),
    tau: Type.Optional(pos('van Rossum τ, s')),
    q: Type.Optional(nonneg('Victor-Purpura q, 1/s')),
    window: Type.Optional(pos('Γ coincidence window, s')),
  }),
} as const;

type RunMethod = keyof typeof BODIES;

/** Analysis-level failures (too few spikes, bad ranges) are the caller's input problem: 400. */
function inputError(e: unknown): never {
  if (e instanceof InputError || e instanceof RangeError) throw new AppError('VALIDATION', e.message);
  throw e;
}

const AnalysisResult = Type.Object(
  {
    runId: Type.Integer(),
    method: Type.String(),
    params: Type.Unknown(),
    cached: Type.Boolean({ description: 'true when the stored result was returned' }),
    stored: Type.Boolean(),
    analysisId: Type.Union([Type.Integer(), Type.Null()]),
    result: Type.Unknown(),
  },
  { additionalProperties: true },
);

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/runs/:id/analyses',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Stored analysis results of a run, newest first',
        params: RunIdParams,
        querystring: obj({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }),
        response: {
          200: Type.Object({
            analyses: Type.Array(Type.Object({ id: Type.Integer(), runId: Type.Integer(), name: Type.String(), params: Type.Unknown(), result: Type.Unknown(), createdAt: Type.String() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { id } = req.params;
      if (!ctx.store.getRun(id)) throw runNotFound(id);
      return { analyses: ctx.store.listAnalyses(id, req.query.name) };
    },
  );

  for (const method of Object.keys(BODIES) as RunMethod[]) {
    app.post(
      `/api/runs/:id/analyses/${method}`,
      {
        schema: {
          tags: ['analysis'],
          summary: `Run the ${method} analysis on a stored run (stored with the run; cached by parameters)`,
          params: RunIdParams,
          querystring: obj({ recompute: Type.Optional(Type.Boolean()) }),
          body: BODIES[method],
          response: { 200: AnalysisResult, ...errorResponses },
        },
      },
      async (req) => {
        const { id } = req.params;
        const run = ctx.store.getRun(id);
        if (!run) throw runNotFound(id);
        if (run.status === 'running') throw runActive(id);
        let p = (req.body ?? {}) as Record<string, unknown>;
        if (method === 'compare' && p.with === undefined) {
          // default partner: the twin run linked to this run (resolved here so it is part of the stored key)
          const other = linkedRun(ctx.store, id);
          if (other === undefined) throw new AppError('VALIDATION', `/with: run ${id} has no linked twin run; name one`, '/with');
          p = { ...p, with: other };
        }
        try {
          return analyzeRun(
            ctx.store,
            id,
            method,
            p,
            () => {
              const sig = readRunSignal(ctx.store, id);
              switch (method) {
                case 'spikes':
                  return spikesMethod(sig, p);
                case 'bursts':
                  return burstsMethod(sig, p);
                case 'avalanches':
                  return avalanchesMethod(sig, p);
                case 'psd':
                  return psdMethod(sig, p);
                case 'resonance':
                  return resonanceMethod(sig, p);
                case 'regime':
                  return regimeMethod([sig], p);
                case 'compare': {
                  const other = Number(p.with);
                  const o = ctx.store.getRun(other);
                  if (!o) throw runNotFound(other, '/with');
                  const { with: _w, ...rest } = p;
                  return compareMethod(sig, readRunSignal(ctx.store, other), rest);
                }
              }
            },
            { recompute: req.query.recompute },
          );
        } catch (e) {
          return inputError(e);
        }
      },
    );
  }

  app.post(
    '/api/analysis/powerlaw',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Power-law fit (Clauset-Shalizi-Newman 2009), optional bootstrap p-value and likelihood-ratio tests',
        body: obj({
          values: Type.Array(Type.Number(), { minItems: 2, maxItems: 5_000_000 }),
          kind: Type.Optional(Type.Union([Type.Literal('discrete'), Type.Literal('continuous')])),
          xmin: Type.Optional(pos('Fixed xmin')),
          minTail: Type.Optional(Type.Integer({ minimum: 2 })),
          bootstrap: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
          compare: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body;
      try {
        const kind = b.kind ?? (b.values.every((v) => v === Math.floor(v)) ? 'discrete' : 'continuous');
        const opts = { kind, minTail: b.minTail, ...(b.xmin !== undefined ? { xmin: b.xmin } : {}) } as const;
        const fit = fitPowerLaw(b.values, opts);
        const out: Record<string, unknown> = { kind, alpha: fit.alpha, alpha_se: fit.alphaSe, xmin: fit.xmin, n_tail: fit.nTail, n: fit.n, ks_d: fit.ksD, log_likelihood: fit.logLik };
        if (b.bootstrap) {
          const r = await powerLawPValueParallel(ctx.pool, b.values, fit, opts, b.bootstrap, { seed: b.seed ?? 1 });
          out.p_value = r.p_value;
          out.bootstrap = { reps: r.reps, exceed: r.exceed, threads: r.threads, seed: b.seed ?? 1 };
        }
        if (b.compare) out.compare = comparePowerLaw(b.values, fit);
        return toJson(out) as Record<string, unknown>;
      } catch (e) {
        return inputError(e);
      }
    },
  );

  app.post(
    '/api/analysis/distance',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Pairwise spike-train distances (ISI, SPIKE, SPIKE-sync, van Rossum, Victor-Purpura)',
        body: obj({
          trains: Type.Array(Type.Array(Type.Number(), { maxItems: 1_000_000 }), { minItems: 2, maxItems: 10_000 }),
          metric: Type.Union(['isi', 'spike', 'spike-sync', 'van-rossum', 'victor-purpura'].map((m) => Type.Literal(m))),
          tau: Type.Optional(pos('van Rossum τ, s')),
          q: Type.Optional(nonneg('Victor-Purpura q, 1/s')),
          tStart: Type.Optional(Type.Number()),
          tEnd: Type.Optional(Type.Number()),
        }),
        response: { 200: Type.Object({ metric: Type.String(), tStart: Type.Number(), tEnd: Type.Number(), matrix: Type.Array(Type.Array(Type.Union([Type.Number(), Type.Null()]))), mean: Type.Union([Type.Number(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body;
      const trains = b.trains.map((t) => Float64Array.from(t).sort());
      let lo = Infinity;
      let hi = -Infinity;
      for (const t of trains) if (t.length) (lo = Math.min(lo, t[0])), (hi = Math.max(hi, t[t.length - 1]));
      const tStart = b.tStart ?? (Number.isFinite(lo) ? lo : 0);
      const tEnd = b.tEnd ?? (Number.isFinite(hi) && hi > tStart ? hi : tStart + 1);
      try {
        const r = distanceMatrix(trains, b.metric as 'isi', { tStart, tEnd, tau: b.tau, q: b.q });
        return toJson({ metric: b.metric, tStart, tEnd, ...r }) as { metric: string; tStart: number; tEnd: number; matrix: number[][]; mean: number };
      } catch (e) {
        return inputError(e);
      }
    },
  );

  app.post(
    '/api/analysis/stdp',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Fit the two exponential STDP branches to (Δt, Δw) pairs',
        body: obj({
          pairs: Type.Array(obj({ dt: Type.Number({ description: 't_post - t_pre, s' }), dw: Type.Number() }), { minItems: 2, maxItems: 1_000_000 }),
          tauMin: Type.Optional(pos('s')),
          tauMax: Type.Optional(pos('s')),
        }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (req) => toJson(fitStdp(req.body.pairs, { tauMin: req.body.tauMin, tauMax: req.body.tauMax })) as Record<string, unknown>,
  );

  app.post(
    '/api/analysis/resonance',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Resonance, onset and optimal operating frequency: from (frequency, response) points, or from stored runs at one stimulus frequency each',
        body: obj({
          points: Type.Optional(Type.Array(obj({ frequency: Type.Number({ minimum: 0 }), response: Type.Number() }), { minItems: 2, maxItems: 1_000_000 })),
          runIds: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, maxItems: 10_000 })),
          frequencies: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }))),
          frequencyParam: Type.Optional(Type.String({ description: 'Protocol parameter with the stimulus frequency (default frequencyHz)' })),
          measure: Type.Optional(Type.Union([Type.Literal('rate'), Type.Literal('harmonics')])),
          onsetFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
          ...spikeProps,
        }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (req) => {
      const { points, runIds, ...p } = req.body;
      try {
        if (points && !runIds) return toJson(resonanceSweep(points, { onsetFraction: p.onsetFraction })) as Record<string, unknown>;
        if (!runIds || points) throw new AppError('VALIDATION', '/: give either points or runIds', '/');
        for (const id of runIds) if (!ctx.store.getRun(id)) throw runNotFound(id);
        return toJson(resonanceRunsMethod(runIds.map((id) => readRunSignal(ctx.store, id)), p)) as Record<string, unknown>;
      } catch (e) {
        return inputError(e);
      }
    },
  );

  app.post(
    '/api/analysis/regime',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Classify stored runs and draw the phase diagram over a swept parameter',
        body: obj({
          runIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10_000 }),
          param: Type.Optional(Type.String({ description: 'Protocol parameter swept across the runs (read from each run protocol unless values are given)' })),
          values: Type.Optional(Type.Array(Type.Number())),
          ...spikeProps,
          ...burstProps,
          ...regimeProps,
        }),
        response: { 200: Type.Object({}, { additionalProperties: true }), ...errorResponses },
      },
    },
    async (req) => {
      const { runIds, ...p } = req.body;
      for (const id of runIds) if (!ctx.store.getRun(id)) throw runNotFound(id);
      try {
        const sigs = runIds.map((id) => readRunSignal(ctx.store, id));
        return toJson(regimeMethod(sigs, { ...(p as Record<string, unknown>), param: p.param ?? 'amplitude' })) as Record<string, unknown>;
      } catch (e) {
        return inputError(e);
      }
    },
  );
};
export default plugin;
