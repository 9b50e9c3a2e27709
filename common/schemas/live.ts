/**
 * The live feed of a run, `GET /api/runs/:id/live` (WebSocket, JSON text frames; server/api/live-feed.ts,
 * docs/api.md): the server → client messages.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { FinalStatus } from '../run-stream.ts';
import { EventKindSchema, RunDetailSchema } from './runs.ts';
import { ErrorSchema, nullable, oneOf } from './shared.ts';

/** One event of a live `events` batch. */
export const LiveEventSchema = Type.Object({
  kind: EventKindSchema,
  channel: nullable(Type.Integer()),
  index: Type.Integer(),
  label: Type.Optional(nullable(Type.String())),
  value: Type.Optional(nullable(Type.Number())),
});

const message = <P extends Record<string, TSchema>, T extends string>(type: T, props: P) =>
  Type.Object({ type: Type.Literal(type), ...props });

/** Server → client. */
export const LiveMessageSchema = Type.Union([
  message('hello', { run: RunDetailSchema }),
  message('block', {
    channel: Type.Integer(),
    firstIndex: Type.Integer(),
    stride: Type.Integer(),
    min: Type.Array(Type.Number()),
    max: Type.Array(Type.Number()),
    wallTime: Type.Optional(Type.Number()),
  }),
  message('events', { events: Type.Array(LiveEventSchema), dropped: Type.Integer() }),
  message('rate', { pairsPerSecond: Type.Number() }),
  message('dropped', { channel: Type.Integer(), start: Type.Integer(), end: Type.Integer() }),
  message('stop', { status: oneOf<FinalStatus>(['completed', 'aborted', 'failed', 'interrupted']), reason: Type.Optional(nullable(Type.String())) }),
  message('error', { error: ErrorSchema.properties.error }),
]);

/** Client → server: the one message a client sends, asking for a display rate (capped by the server). */
export const LiveClientMessageSchema = message('rate', { pairsPerSecond: Type.Number({ minimum: 1 }) });

export type LiveEvent = Static<typeof LiveEventSchema>;
export type LiveClientMessage = Static<typeof LiveClientMessageSchema>;
export type LiveMessage = Static<typeof LiveMessageSchema>;
