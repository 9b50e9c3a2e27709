/**
 * GET /api/runs/:id/export?format=csv|npy|nwb|events|sidecar[&channel=][&raw=true] : one file of a run's export
 * (server/export, docs/storage.md): the CSV (time_s + channels in SI units), one channel's NPY (float64 SI,
 * or the stored codes with raw=true), the NWB 2.x file (written on a pool thread), the events CSV, or the
 * JSON sidecar. Streamed: the CSV, NPY and events files written by a pool thread that reads the run from
 * the database file into a temporary file sent as it grows (docs/security.md "Bounded work"), else made
 * here, a chunk per turn of the event loop.
 */
import type { FastifyReply } from 'fastify';
import { ExportQuerySchema } from '../../../common/schemas/runs.ts';
import { AppError, runNotFound } from '../../../common/errors.ts';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { exportBytes, exportChunks, exportFileName, npyByteLength, sidecar, type ExportJob } from '../../export/index.ts';
import { writeNwb } from '../../export/nwb.ts';
import type { ApiContext, RoutePlugin } from '../app.ts';
import { ErrorSchema } from '../../../common/schemas/shared.ts';
import { RunIdParams, errorResponses } from '../schemas.ts';

/** Rows (CSV) or samples (NPY) per chunk of an answer made here: a few ms of the event loop each. */
const CHUNK = 4096;
/** ... and written by a pool thread (a CSV chunk of about 1 MB). */
const POOL_CHUNK = 1 << 14;

/**
 * The chunks made one per turn of the event loop: from a sync generator Readable.from makes up to 16 in
 * one go (a 28 MB CSV held the loop for 0.5 s at a time, docs/security.md "Bounded work").
 */
async function* paced<T>(chunks: Iterable<T>): AsyncGenerator<T> {
  for (const c of chunks) {
    yield c;
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Bytes of a growing export file read per chunk of the answer, and how long to wait when the reader has caught up with the thread, ms. */
const FOLLOW_BYTES = 1 << 18;
const FOLLOW_MS = 20;

/**
 * The bytes of `file` as a thread writes it, read as the client takes them, until `written` (the thread's
 * task) settles; its failure is thrown, before the bytes still unread.
 */
async function* follow(file: string, written: Promise<unknown>): AsyncGenerator<Buffer> {
  let end: { ok: true } | { ok: false; err: unknown } | undefined;
  const settled = written.then(
    () => void (end = { ok: true }),
    (err: unknown) => void (end = { ok: false, err }),
  );
  const fh = await open(file, 'r');
  let buf = Buffer.allocUnsafe(FOLLOW_BYTES);
  try {
    for (;;) {
      const ended = end; // taken before the read: one after the thread's end has all it wrote
      if (ended && !ended.ok) throw ended.err;
      const { bytesRead } = await fh.read(buf, 0, FOLLOW_BYTES, null);
      if (bytesRead > 0) {
        yield buf.subarray(0, bytesRead);
        buf = Buffer.allocUnsafe(FOLLOW_BYTES);
      } else if (ended) return;
      else await Promise.race([settled, new Promise((r) => setTimeout(r, FOLLOW_MS))]);
    }
  } finally {
    await fh.close();
  }
}

/**
 * An export file written by a pool thread at full speed into a temporary file beside the database (room
 * checked first, DISK_FULL), sent as it grows: the thread, and the request's place among the heavy ones,
 * are taken for the formatting only, however slowly the client reads (docs/security.md "Bounded work").
 * The file is removed once the answer has ended (sent, refused, or its client gone) and the thread with it.
 */
async function* writtenOnThread(ctx: ApiContext, reply: FastifyReply, job: ExportJob): AsyncGenerator<Buffer> {
  ctx.store.checkSpace(exportBytes(ctx.store, job), `the export of run ${job.runId}`);
  const file = ctx.store.scratchFile();
  closeSync(openSync(file, 'wx', 0o600));
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const written = ctx.heavy.run(reply, 'exportFile', { ...job, chunk: POOL_CHUNK, dbFile: ctx.store.file, file, stop }, { local: true, stop });
  const settled = written.catch(() => undefined);
  reply.raw.once('close', () => void settled.then(() => rmSync(file, { force: true })));
  yield* follow(file, written);
}

/**
 * An export file as a stream: written on a pool thread when one can read the run from the database file (a
 * 28 MB CSV is about 1 s of formatting, and its strings' garbage collection, that held the event loop in
 * 4096-row slices: health answers late by up to 0.3 s under load); else made here. The first chunk is
 * there before the answer starts, so a refusal (channels of different rates, 503 BUSY) is still its status.
 */
async function exportStream(ctx: ApiContext, reply: FastifyReply, job: ExportJob): Promise<Readable> {
  const chunks: AsyncGenerator<string | Uint8Array> = ctx.heavy.readsFile(ctx.store, { local: true })
    ? writtenOnThread(ctx, reply, job)
    : paced(exportChunks(ctx.store, { ...job, chunk: CHUNK }));
  const first = await chunks.next();
  return Readable.from(
    (async function* () {
      if (first.done) return;
      yield first.value;
      yield* chunks;
    })(),
  );
}

const plugin: RoutePlugin = async (app, { ctx }) => {
  app.get(
    '/api/runs/:id/export',
    {
      schema: {
        tags: ['export'],
        summary: 'Download a run with its physics: CSV (time_s + SI values), NPY (one channel, float64 SI or raw codes), NWB 2.x, events CSV or the JSON sidecar',
        params: RunIdParams,
        querystring: ExportQuerySchema,
        response: { ...errorResponses, 503: ErrorSchema, 507: ErrorSchema },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const run = ctx.store.getRun(id);
      if (!run) throw runNotFound(id);
      const { format, channel, sidecarFor = 'csv' } = req.query;
      const raw = req.query.raw === 'true';
      const ch = channel === undefined ? undefined : run.channels.find((c) => c.index === channel);
      if (channel !== undefined && !ch) {
        throw new AppError('CHANNEL_NOT_FOUND', `run ${id} has no channel ${channel}`, '/query/channel');
      }
      if (req.query.sidecarFor !== undefined && format !== 'sidecar') {
        throw new AppError('VALIDATION', '/query/sidecarFor: applies to format sidecar only', '/query/sidecarFor');
      }
      if (raw && format !== 'npy' && !(format === 'sidecar' && sidecarFor === 'npy')) {
        throw new AppError('VALIDATION', '/query/raw: applies to format npy only', '/query/raw');
      }
      const channels = ch ? [ch.index] : undefined;
      // set once the answer is known to be the file (a stream's first chunk made): a refusal is no attachment
      const attach = (name: string) => reply.header('Content-Disposition', `attachment; filename="${name}"`);
      switch (format) {
        case 'npy': {
          if (!ch) throw new AppError('VALIDATION', 'query/channel: required for format npy (one channel per file)', '/query/channel');
          const bytes = npyByteLength(ctx.store, id, ch.index, raw);
          const stream = await exportStream(ctx, reply, { kind: 'npy', runId: id, channel: ch.index, raw });
          return attach(exportFileName(id, 'npy', ch.name)).type('application/octet-stream').header('Content-Length', bytes).send(stream as never); // streams bypass the serializer
        }
        case 'csv': {
          const stream = await exportStream(ctx, reply, { kind: 'csv', runId: id, ...(channels ? { channels } : {}) });
          return attach(exportFileName(id, 'csv')).type('text/csv; charset=utf-8').send(stream as never);
        }
        case 'events': {
          const stream = await exportStream(ctx, reply, { kind: 'events', runId: id });
          return attach(exportFileName(id, 'events')).type('text/csv; charset=utf-8').send(stream as never);
        }
        case 'sidecar':
          return attach(exportFileName(id, 'sidecar'))
            .type('application/json; charset=utf-8')
            .send(JSON.stringify(sidecar(ctx.store, id, { format: sidecarFor, raw, channels }), null, 2) as never);
        case 'nwb': {
          const dir = mkdtempSync(path.join(os.tmpdir(), 'spikeloop-nwb-'));
          const file = path.join(dir, exportFileName(id, 'nwb'));
          try {
            // HDF5 (h5wasm) writes synchronously, seconds for a large run: on a thread, which reads the run from the file
            const bytes = ctx.heavy.readsFile(ctx.store, { local: true })
              ? await ctx.heavy.run(reply, 'nwb', { dbFile: ctx.store.file, runId: id, file, ...(channels ? { channels } : {}) }, { local: true })
              : await writeNwb(ctx.store, id, file, { channels });
            const stream = createReadStream(file);
            stream.on('close', () => rmSync(dir, { recursive: true, force: true }));
            return attach(exportFileName(id, 'nwb')).type('application/x-hdf5').header('Content-Length', bytes).send(stream as never);
          } catch (err) {
            rmSync(dir, { recursive: true, force: true });
            throw err;
          }
        }
      }
    },
  );
};
export default plugin;
