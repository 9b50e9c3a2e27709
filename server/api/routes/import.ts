/**
 * POST /api/import?name=&format=&rate=&unit=&stimulus=&label= with the file's bytes as the body
 * (application/octet-stream or text/csv): records the recording as a run (source `import`, server/import).
 * A refused file is a 400 BAD_IMPORT naming the line or setting at fault, and leaves nothing stored.
 */
import { Type } from 'typebox';
import { AppError } from '../../../common/errors.ts';
import { MAX_IMPORT_BYTES, importRecording, type ImportFormat } from '../../import/index.ts';
import { clientGone } from '../heavy.ts';
import type { RoutePlugin } from '../app.ts';
import { ImportQuerySchema, RunSummarySchema } from '../../../common/schemas/runs.ts';
import { errorResponses } from '../schemas.ts';

const plugin: RoutePlugin = async (app, { ctx }) => {
  for (const type of ['application/octet-stream', 'text/csv', 'text/plain']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body));
  }
  app.post(
    '/api/import',
    {
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        tags: ['import'],
        summary: 'Import a recording (oscilloscope CSV, plain CSV/NPY with rate, WAV, spikeloop NWB) as a run; the body is the file',
        querystring: ImportQuerySchema,
        response: { 201: Type.Object({ run: RunSummarySchema }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const body = req.body;
      if (!Buffer.isBuffer(body)) throw new AppError('VALIDATION', 'body: send the file as application/octet-stream', '/');
      const q = req.query;
      const name = q.name.replace(/^.*[\\/]/, '');
      // parsed on a thread of this machine (seconds for a large CSV), the bytes moved there when they own
      // their buffer; a refused file is an AppError BAD_IMPORT (field /body); nothing is stored
      const opts = { format: q.format as ImportFormat | 'auto' | undefined, rate: q.rate, unit: q.unit, stimulus: q.stimulus };
      const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      const rec = await ctx.heavy.run(reply, 'readRecording', { bytes: body, name, opts }, { local: true, ...(whole ? { transfer: [body.buffer as ArrayBuffer] } : {}) });
      const run = await importRecording(ctx.runs, rec, name, { ...(q.label !== undefined ? { label: q.label } : {}), signal: clientGone(reply) });
      return reply.status(201).send({ run });
    },
  );
};
export default plugin;
