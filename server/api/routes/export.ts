/** GET /api/runs/:id/export?format=csv|npy&channel= : a run's samples as a CSV or NPY download (streamed). */
import { AppError, runNotFound } from '../../../common/errors.ts';
import { Type } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { csvChunks, exportFileName, npyByteLength, npyChunks } from '../../export/index.ts';
import type { RoutePlugin } from '../app.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/runs/:id/export',
    {
      schema: {
        tags: ['export'],
        summary: 'Download samples: CSV (all channels or one, physical units) or NPY (one channel, raw dtype)',
        params: RunIdParams,
        querystring: Type.Object(
          {
            format: Type.Union([Type.Literal('csv'), Type.Literal('npy')]),
            channel: Type.Optional(Type.Integer({ minimum: 0, description: 'Channel index; required for npy' })),
          },
          { additionalProperties: false },
        ),
        response: { ...errorResponses },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const run = ctx.store.getRun(id);
      if (!run) throw runNotFound(id);
      const { format, channel } = req.query;
      const ch = channel === undefined ? undefined : run.channels.find((c) => c.index === channel);
      if (channel !== undefined && !ch) {
        throw new AppError('CHANNEL_NOT_FOUND', `run ${id} has no channel ${channel}`, '/query/channel');
      }
      if (format === 'npy') {
        if (!ch) throw new AppError('VALIDATION', 'query/channel: required for format npy (one channel per file)', '/query/channel');
        return reply
          .type('application/octet-stream')
          .header('Content-Disposition', `attachment; filename="${exportFileName(id, 'npy', ch.name)}"`)
          .header('Content-Length', npyByteLength(ctx.store, id, ch.index))
          .send(Readable.from(npyChunks(ctx.store, id, ch.index)) as never); // streams bypass the serializer
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="${exportFileName(id, 'csv')}"`)
        .send(Readable.from(csvChunks(ctx.store, id, ch ? [ch.index] : undefined)) as never);
    },
  );
};
export default plugin;
