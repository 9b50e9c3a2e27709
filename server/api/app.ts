/**
 * The HTTP/WebSocket API: `buildApp()` assembles the fastify app (separate from `listen()`, so tests use
 * `app.inject()`). Each file in ./routes default-exports a fastify plugin receiving `{ ctx }`; they are
 * discovered, so features add a route file without editing this one. OpenAPI at /docs (/docs/json);
 * the dashboard (web/dist) at / when it has been built.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import { type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunStore } from '../store/run-store.ts';
import { RunManager } from '../runs/run-manager.ts';
import { loadSources, type SourceRegistry } from '../sources/registry.ts';
import { SOFTWARE_VERSION } from '../version.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import { ApiError, errorHandler } from './errors.ts';
import { LiveFeed, type LiveFeedOptions } from './live-feed.ts';
import { validatorCompiler } from './validation.ts';
import { WorkerPool } from '../workers/pool.ts';

/** What every route plugin receives as `opts.ctx`. */
export interface ApiContext {
  store: RunStore;
  runs: RunManager;
  sources: SourceRegistry;
  /** Live WebSocket feed settings and counters (back-pressure statistics). */
  live: LiveFeed;
  /** The worker pool for twin runs, sweeps and heavy analyses. */
  pool: WorkerPool;
  version: string;
}

export type RoutePlugin = FastifyPluginAsyncTypebox<{ ctx: ApiContext }>;

export interface BuildAppOptions {
  store: RunStore;
  /** Defaults to every source in server/sources (loadSources()). */
  sources?: SourceRegistry;
  /** Defaults to a new RunManager over store and sources. */
  runs?: RunManager;
  /** Folder of the built dashboard; default web/dist when it exists; false to serve no static files. */
  webDist?: string | false;
  logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  live?: Partial<LiveFeedOptions>;
  /** Defaults to a new WorkerPool (one thread per core, started on first use), closed with the app. */
  pool?: WorkerPool;
}

export type App = FastifyInstance;

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_WEB_DIST = path.join(PACKAGE_ROOT, 'web/dist');
export const DEFAULT_BODY_LIMIT = 1 << 20;

export async function buildApp(opts: BuildAppOptions): Promise<App> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const sources = opts.sources ?? (await loadSources());
  const runs = opts.runs ?? new RunManager(opts.store, sources);
  const pool = opts.pool ?? new WorkerPool();
  const ctx: ApiContext = { store: opts.store, runs, sources, live: new LiveFeed(opts.live), pool, version: SOFTWARE_VERSION };

  const app = Fastify({ logger: opts.logger ?? false, bodyLimit, forceCloseConnections: true }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler(bodyLimit));
  // JSON bodies as fastify parses them (prototype-poisoning keys refused), except that an empty body is
  // "no body": `POST /api/runs/1/stop` with a JSON content type and nothing else is fine, and routes that
  // need a body say so through their schema.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    jsonParser(req, body as string, done);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'spikeloop API', version: SOFTWARE_VERSION, description: 'Runs, live feed, channel data and exports of the spikeloop lab controller' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  const routesDir = path.join(here, 'routes');
  const files = readdirSync(routesDir).filter((f) => /\.[jt]s$/.test(f) && !/\.(test|d)\.ts$/.test(f)) // .js in the compiled build.sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(routesDir, file)).href)) as { default?: RoutePlugin };
    if (typeof mod.default !== 'function') throw new Error(`server/api/routes/${file} has no default-exported plugin`);
    await app.register(mod.default, { ctx });
  }

  const webDist = opts.webDist === undefined ? DEFAULT_WEB_DIST : opts.webDist;
  const serveWeb = webDist !== false && existsSync(path.join(webDist, 'index.html'));
  if (serveWeb) await app.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: true });

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0];
    if (serveWeb && req.method === 'GET' && !url.startsWith('/api/') && !url.startsWith('/docs')) {
      return reply.sendFile('index.html');
    }
    const err = new ApiError('ROUTE_NOT_FOUND', { method: req.method, url });
    return reply.status(err.status).send(err.body());
  });

  // Closing the app (SIGINT/SIGTERM in `serve`, tests) stops running runs cleanly: stop messages written.
  app.addHook('preClose', async () => {
    await runs.shutdown();
  });
  if (!opts.pool) app.addHook('onClose', () => pool.close());
  app.decorate('spikeloop', ctx);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    spikeloop: ApiContext;
  }
}
