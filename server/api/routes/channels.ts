/**
 * Channel data of a run: raw sample ranges and min/max envelopes at N pixels (from the store's pyramid).
 *   GET /api/runs/:id/channels/:ch/raw?start=&end=[&format=binary]
 *   GET /api/runs/:id/channels/:ch/envelope?start=&end=&pixels=
 */
import { AppError, runNotFound } from '../../../common/errors.ts';
import { EnvelopeQuerySchema, EnvelopeSchema, RawQuerySchema, RawSamplesSchema } from '../../../common/schemas/runs.ts';
import type { RoutePlugin } from '../app.ts';
import { ChannelParams, errorResponses } from '../schemas.ts';

export const MAX_RAW_SAMPLES = 1_000_000;

const plugin: RoutePlugin = async (app, { ctx }) => {
  const { store } = ctx;
  const channelOr404 = (id: number, ch: number) => {
    const run = store.getRun(id);
    if (!run) throw runNotFound(id);
    const channel = run.channels.find((c) => c.index === ch);
    if (!channel) throw new AppError('CHANNEL_NOT_FOUND', `run ${id} has no channel ${ch} (it has ${run.channels.length})`, '/params/ch');
    return channel;
  };
  const range = (start: number | undefined, end: number | undefined, count: number) => {
    const s = start ?? 0;
    const e = end ?? Math.max(count, s + 1);
    if (e <= s) throw new AppError('BAD_RANGE', `end (${e}) must be greater than start (${s})`, '/query/end');
    return [s, e] as const;
  };

  app.get(
    '/api/runs/:id/channels/:ch/raw',
    {
      schema: {
        tags: ['channels'],
        summary: `Raw samples of [start, end) (at most ${MAX_RAW_SAMPLES}); JSON, or binary with Accept: application/octet-stream or format=binary`,
        params: ChannelParams,
        querystring: RawQuerySchema,
        response: {
          200: RawSamplesSchema,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { id, ch } = req.params;
      const channel = channelOr404(id, ch);
      const [start, end] = range(req.query.start, req.query.end, Math.min(channel.sampleCount, MAX_RAW_SAMPLES));
      if (end - start > MAX_RAW_SAMPLES) {
        throw new AppError('BAD_RANGE', `at most ${MAX_RAW_SAMPLES} samples per request, asked for ${end - start}`, '/query/end');
      }
      const segments = store.readRaw(id, ch, start, end);
      const binary = req.query.format === 'binary' || (req.query.format === undefined && (req.headers.accept ?? '').includes('application/octet-stream'));
      if (binary) {
        const parts = segments.map((s) => Buffer.from(s.samples.buffer, s.samples.byteOffset, s.samples.byteLength));
        return reply
          .type('application/octet-stream')
          .header('X-Segments', JSON.stringify(segments.map((s) => [s.start, s.samples.length])))
          .header('X-Dtype', channel.dtype)
          .send(Buffer.concat(parts) as never); // Buffers bypass the JSON serializer
      }
      return {
        channel: ch,
        dtype: channel.dtype,
        scale: channel.scale,
        offset: channel.offset,
        unit: channel.unit,
        segments: segments.map((s) => ({ start: s.start, samples: Array.from(s.samples) })),
      };
    },
  );

  app.get(
    '/api/runs/:id/channels/:ch/envelope',
    {
      schema: {
        tags: ['channels'],
        summary: 'Min/max per pixel column of [start, end), physical units, null where there is no sample',
        params: ChannelParams,
        querystring: EnvelopeQuerySchema,
        response: {
          200: EnvelopeSchema,
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { id, ch } = req.params;
      const channel = channelOr404(id, ch);
      const [start, end] = range(req.query.start, req.query.end, channel.sampleCount);
      const env = store.readEnvelope(id, ch, start, end, req.query.pixels ?? 1000);
      const orNull = (a: Float64Array) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));
      return {
        start: env.start,
        end: env.end,
        pixels: env.pixels,
        samplesPerPixel: env.samplesPerPixel,
        level: env.level,
        unit: channel.unit,
        min: orNull(env.min),
        max: orNull(env.max),
      };
    },
  );
};
export default plugin;
