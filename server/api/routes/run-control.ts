/**
 * Run control beside start/stop (routes/runs.ts):
 *   POST /api/runs/:id/pause     → { progress }
 *   POST /api/runs/:id/resume    → { progress }
 *   GET  /api/runs/:id/progress  → { progress }
 */
import { Type } from 'typebox';
import { RunProgressSchema, type RunProgress } from '../../../common/schemas/runs.ts';
import { runNotFound } from '../../../common/errors.ts';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store, runs } = ctx;

  const progressOf = (id: number): RunProgress => {
    const live = runs.progress(id);
    if (live) return live;
    const run = store.getRun(id);
    if (!run) throw runNotFound(id);
    const stim = run.channels[0];
    const total = stim ? Math.max(stim.sampleCount, Math.round(Number((run.protocol as { durationS?: number }).durationS ?? 0) * stim.sampleRate)) : 0;
    const done = stim?.sampleCount ?? 0;
    return {
      runId: id,
      state: 'done' as const,
      status: run.status,
      fraction: total > 0 ? done / total : 1,
      samplesDone: done,
      samplesTotal: total,
      elapsedS: stim ? done / stim.sampleRate : 0,
      remainingS: 0,
      pausedS: 0,
    };
  };

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/runs/:id/${action}`,
      {
        schema: {
          tags: ['runs'],
          summary: action === 'pause' ? 'Pause a running run (the source is held; its clock stands still)' : 'Resume a paused run',
          params: RunIdParams,
          response: { 200: Type.Object({ progress: RunProgressSchema }), ...errorResponses },
        },
      },
      async (req) => ({ progress: action === 'pause' ? runs.pause(req.params.id) : runs.resume(req.params.id) }),
    );
  }

  app.get(
    '/api/runs/:id/progress',
    {
      schema: {
        tags: ['runs'],
        summary: 'Progress of a run: fraction done, time left, paused time',
        params: RunIdParams,
        response: { 200: Type.Object({ progress: RunProgressSchema }), ...errorResponses },
      },
    },
    async (req) => ({ progress: progressOf(req.params.id) }),
  );
};
export default plugin;
