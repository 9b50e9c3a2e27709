/**
 * POST /api/import?name=&format=&rate=&unit=&stimulus=&inferRoles=&sidecar=&label=&eventsBytes=&events= with the file's
 * bytes as the body (application/octet-stream or text/csv), followed by the run's events export when eventsBytes
 * says how long it is: records the recording as a run (source `import`, server/import).
 * A refused file is a 400 BAD_IMPORT naming the line or setting at fault, and leaves nothing stored.
 */
import { errorCodes } from 'fastify';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { AppError } from '../../../common/errors.ts';
import { MAX_IMPORT_BYTES, importRecording, parseSidecar, type ImportFormat } from '../../import/index.ts';
import { clientGone } from '../heavy.ts';
import type { RoutePlugin } from '../app.ts';
import { ImportQuerySchema, RunSummarySchema } from '../../../common/schemas/runs.ts';
import { errorResponses } from '../schemas.ts';

/**
 * The upload as a Buffer that owns its memory, so it is moved, not copied, to the parsing thread. With a
 * Content-Length each chunk is copied in as it arrives: fastify's own buffer parser joins the chunks at the
 * end, one copy of the whole file on the event loop (80 ms for 15 MB on a loaded machine, seconds at the
 * 256 MB cap). Without one (chunked), the chunks are joined at the end.
 */
function receive(payload: Readable & { receivedEncodedLength?: number }, length: number, done: (err: Error | null, body?: Buffer) => void): void {
  if (length > MAX_IMPORT_BYTES) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  const known = Number.isSafeInteger(length) && length >= 0;
  const whole = known ? Buffer.allocUnsafeSlow(length) : null;
  const chunks: Buffer[] = [];
  let received = 0;
  const stop = (err: Error | null, body?: Buffer) => {
    payload.off('data', onData).off('end', onEnd).off('error', stop);
    done(err, body);
  };
  const onData = (chunk: Buffer) => {
    if (received + chunk.length > (known ? length : MAX_IMPORT_BYTES)) {
      return stop(known ? new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH() : new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    }
    if (whole) whole.set(chunk, received);
    else chunks.push(chunk);
    received += chunk.length;
  };
  const onEnd = () => {
    if (known && received !== length) return stop(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    if (whole) return stop(null, whole);
    const joined = Buffer.allocUnsafeSlow(received);
    let at = 0;
    for (const c of chunks) at += c.copy(joined, at);
    stop(null, joined);
  };
  payload.on('data', onData).on('end', onEnd).on('error', stop);
}

const plugin: RoutePlugin = async (app, { ctx }) => {
  for (const type of ['application/octet-stream', 'text/csv', 'text/plain']) {
    app.addContentTypeParser(type, { bodyLimit: MAX_IMPORT_BYTES }, (req, payload, done) => receive(payload, Number(req.headers['content-length'] ?? NaN), done));
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
      // parsed on a thread of this machine (seconds for a large CSV), the bytes moved there (receive() gives
      // them a buffer of their own); a refused file is an AppError BAD_IMPORT (field /body, or the query field at fault); nothing is stored
      const opts = { format: q.format as ImportFormat | 'auto' | undefined, rate: q.rate, unit: q.unit, stimulus: q.stimulus, inferRoles: q.inferRoles !== 'false', naming: 'api' as const, sidecar: q.sidecar === undefined ? undefined : parseSidecar(q.sidecar, name) };
      if (q.events !== undefined && q.eventsBytes === undefined) throw new AppError('VALIDATION', 'events: give eventsBytes, the events file\'s size at the end of the body', '/query/eventsBytes');
      // the events export travels at the end of the same body, so the upload stays one stream and the run is
      // stored whole or not at all
      const events = q.eventsBytes === undefined ? {} : { events: { name: (q.events ?? `${name} events`).replace(/^.*[\\/]/, ''), bytes: q.eventsBytes } };
      const rec = await ctx.heavy.run(reply, 'readRecording', { bytes: body, name, opts, ...events }, { local: true, transfer: [body.buffer as ArrayBuffer] });
      const run = await importRecording(ctx.runs, rec, name, { ...(q.label !== undefined ? { label: q.label } : {}), signal: clientGone(reply) });
      return reply.status(201).send({ run });
    },
  );
};
export default plugin;
