/**
 * Protocols:
 *   GET  /api/protocols         every stimulus protocol kind with its JSON schema (defaults, descriptions)
 *   POST /api/protocols/check   { protocol, points?, previewS?, previewPeriods? } → summary, limits, segments, periodS, preview (or the sweep's points)
 * A refusal names the parameter that causes it (`/protocol/amplitude`; in a sweep `/protocol/parameters/0`
 * or `/protocol/base/amplitude`).
 */
import { Type } from 'typebox';
import { ProtocolCheckBodySchema, ProtocolCheckSchema, ProtocolInfoSchema } from '../../../common/schemas/protocols.ts';
import { AppError } from '../../../common/errors.ts';
import { checkLimits, planStimulus } from '../../benchconfig/index.ts';
import { protocolSchemas, protocolSegments, sampleStimulus, shortestPeriodS, validateProtocol } from '../../protocols/index.ts';
import { PROTOCOL_KINDS } from '../../protocols/kinds/index.ts';
import { expandSweep, isSweepDocument, pointRefusalField, sweepSummary } from '../../protocols/sweep.ts';
import type { RoutePlugin } from '../app.ts';
import { errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  // Plain JSON (TypeBox's symbol keys dropped), computed once; an imported recording is not offered for new runs.
  const protocols = Object.entries(protocolSchemas).filter(([kind]) => !(PROTOCOL_KINDS[kind as keyof typeof PROTOCOL_KINDS] as { imported?: true }).imported).map(([kind, schema]) => ({
    kind,
    title: String((schema as { title?: string }).title ?? kind),
    schema: JSON.parse(JSON.stringify(schema)) as unknown,
  }));
  app.get(
    '/api/protocols',
    {
      schema: {
        tags: ['protocols'],
        summary: 'Stimulus protocol kinds and their JSON schemas',
        response: {
          200: Type.Object({ protocols: Type.Array(ProtocolInfoSchema) }),
        },
      },
    },
    async () => ({ protocols }),
  );

  app.post(
    '/api/protocols/check',
    {
      schema: {
        tags: ['experiments'],
        summary: 'Validate a protocol or sweep, state its duration and peaks, check the bench limits, preview the stimulus',
        body: ProtocolCheckBodySchema,
        response: {
          200: ProtocolCheckSchema,
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const doc = req.body.protocol;
      const bench = ctx.bench;
      try {
        if (isSweepDocument(doc)) {
          const expanded = expandSweep(doc);
          const summary = sweepSummary(expanded);
          const points = expanded.points.map((pt) => {
            try {
              return { index: pt.index, label: pt.label, summary: planStimulus(pt.protocol, bench).summary };
            } catch (err) {
              if (!(err instanceof AppError)) throw err;
              throw new AppError(err.code, `sweep point ${pt.index} (${pt.label}): ${err.message}`, pointRefusalField(expanded.sweep, err.field, '/protocol'), err.details);
            }
          });
          checkLimits(summary, bench.limits);
          const periods = expanded.points.map((pt) => shortestPeriodS(pt.protocol)).filter((x): x is number => x !== null);
          return { summary, points, periodS: periods.length ? Math.min(...periods) : null };
        }
        const p = validateProtocol(doc);
        const plan = planStimulus(p, bench);
        const n = req.body.points ?? 1000;
        const periodS = shortestPeriodS(p);
        // many periods in a few hundred points would alias: a long periodic stimulus is previewed over its first periods
        const k = req.body.previewPeriods;
        const periodsS = k !== undefined && periodS !== null && p.durationS > 2 * k * periodS ? k * periodS : Infinity;
        const dt = Math.min(p.durationS, req.body.previewS ?? Infinity, periodsS) / n;
        return { summary: plan.summary, limits: plan.limits, segments: protocolSegments(p), periodS, preview: { dt, values: Array.from(sampleStimulus(p, 1 / dt, 0, n)) } };
      } catch (err) {
        // the protocol's own pointer, placed inside the request body
        if (err instanceof AppError && err.code === 'BAD_PROTOCOL') throw new AppError('BAD_PROTOCOL', err.message, `/protocol${err.field ?? ''}`);
        throw err;
      }
    },
  );
};
export default plugin;
