/** GET /api/protocols: every stimulus protocol kind with its JSON schema (defaults, descriptions). */
import { Type } from '@fastify/type-provider-typebox';
import { protocolSchemas } from '../../protocols/index.ts';
import { PROTOCOL_KINDS } from '../../protocols/kinds/index.ts';
import type { RoutePlugin } from '../app.ts';

const plugin: RoutePlugin = async (app) => {
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
          200: Type.Object({
            protocols: Type.Array(Type.Object({ kind: Type.String(), title: Type.String(), schema: Type.Unknown() })),
          }),
        },
      },
    },
    async () => ({ protocols }),
  );
};
export default plugin;
