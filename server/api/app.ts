/**
 * The HTTP/WebSocket API: `buildApp()` assembles the fastify app (separate from `listen()`, so tests use
 * `app.inject()`) over the services of the composition root (server/services.ts). Each file in ./routes
 * default-exports a fastify plugin receiving `{ ctx }` and is listed in ROUTES; plugins only translate
 * HTTP to calls of those services and construct none. OpenAPI at /docs (/docs/json); the dashboard
 * (web/dist) at / when it has been built.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import { type FastifyPluginAsyncTypebox, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { buildServices, type Services, type ServicesOptions } from '../services.ts';
import { SOFTWARE_VERSION } from '../version.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import { errorHandler } from './errors.ts';
import { LiveFeed, type LiveFeedOptions } from './live-feed.ts';
import { validatorCompiler } from './validation.ts';
import { newToken, registerSecurity, type SecurityOptions } from './security.ts';
import { HeavyWork } from './heavy.ts';
import { FitJobs } from '../experiments/fit-jobs.ts';
import analysis from './routes/analysis.ts';
import benchInstruments from './routes/bench-instruments.ts';
import channels from './routes/channels.ts';
import events from './routes/events.ts';
import experiments from './routes/experiments.ts';
import fit from './routes/fit.ts';
import exportRoutes from './routes/export.ts';
import health from './routes/health.ts';
import importRoutes from './routes/import.ts';
import live from './routes/live.ts';
import pairing from './routes/pairing.ts';
import protocols from './routes/protocols.ts';
import runControl from './routes/run-control.ts';
import runs from './routes/runs.ts';
import sources from './routes/sources.ts';
import sweeps from './routes/sweeps.ts';
import twin from './routes/twin.ts';
import workers from './routes/workers.ts';

/** What every route plugin receives as `opts.ctx`: the services, and the live feed's settings. */
export interface ApiContext extends Services {
  /** Live WebSocket feed settings and counters (back-pressure statistics). */
  live: LiveFeed;
  /** Heavy requests on the pool: a concurrency limit and cancellation when the client leaves. */
  heavy: HeavyWork;
  /** Twin calibrations started over the API (one at a time, cancellable). */
  fits: FitJobs;
}

export type RoutePlugin = FastifyPluginAsyncTypebox<{ ctx: ApiContext }>;

/** Every route plugin (one per concern). */
export const ROUTES: RoutePlugin[] = [analysis, benchInstruments, channels, events, experiments, exportRoutes, fit, health, importRoutes, live, pairing, protocols, runControl, runs, sources, sweeps, twin, workers];

/**
 * The services to serve: built by the caller (`services`, e.g. `spikeloop serve`), or here from
 * ServicesOptions (tests). Either way closing the app closes them (runs stopped, instruments to zero).
 */
export type BuildAppOptions = AppOptions & ({ services: Services } | ServicesOptions);

export interface AppOptions {
  /** Folder of the built dashboard; default web/dist when it exists; false to serve no static files. */
  webDist?: string | false;
  logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  live?: Partial<LiveFeedOptions>;
  /** Token and allowed hosts (server/api/security.ts); default: a fresh random token nobody knows. */
  security?: SecurityOptions;
}

export type App = FastifyInstance;

export const DEFAULT_WEB_DIST = path.join(PACKAGE_ROOT, 'web/dist');
export const DEFAULT_BODY_LIMIT = 1 << 20;

/**
 * Deepest nesting of objects and arrays a JSON body may have. The API's documents are a few levels deep; an
 * inline circuit nested 100,000 deep (800 kB) overflowed the stack of whatever walked it: the circuit check
 * answered 409 "Maximum call stack size exceeded", a fit's handing it to a pool thread 500 TASK_FAILED.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON text nests objects and arrays more than `max` deep (one pass; brackets inside strings do not count). */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote, over escapes
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export async function buildApp(opts: BuildAppOptions): Promise<App> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  // compileValidators: the answer schemas' unions are compiled when the app starts, not by the first answer
  // of each route (25–75 ms of the event loop then, docs/security.md "Bounded work")
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit, forceCloseConnections: true, serializerOpts: { compileValidators: true } }).withTypeProvider<TypeBoxTypeProvider>();
  // First hook: Host, Origin and token are checked before anything else sees the request.
  registerSecurity(app, opts.security ?? { token: newToken() });
  // A `..` segment (sent as-is or percent-encoded) would climb out of the dashboard's folder: refused by
  // name before any route or file lookup, after the token check (so it tells a stranger nothing).
  app.addHook('onRequest', async (req) => {
    const raw = req.url.split('?')[0];
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // malformed escapes: judged as sent
    }
    if (/(^|[/\\])\.\.([/\\]|$)/.test(decoded)) throw new AppError('BAD_PATH', `path ${raw} is outside the dashboard (a ".." segment); nothing was read`);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler(bodyLimit));
  // JSON bodies as fastify parses them (prototype-poisoning keys refused), except that an empty body is
  // "no body": `POST /api/runs/1/stop` with a JSON content type and nothing else is fine, and routes that
  // need a body say so through their schema.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    if (nestedDeeperThan(body as string, MAX_JSON_DEPTH)) {
      return done(new AppError('VALIDATION', `body: nested more than ${MAX_JSON_DEPTH} levels deep (objects and arrays); no document of this API is`, '/'), undefined);
    }
    jsonParser(req, body as string, (err, value) => {
      if (!err) return done(null, value);
      // fastify 5 says only "Body is not valid JSON": name the fault (where the syntax breaks, or the poisoning key)
      let why = 'a __proto__ or constructor.prototype key (refused: prototype poisoning)';
      try { JSON.parse(body as string); } catch (syntax) { why = (syntax as Error).message; }
      done(new AppError('MALFORMED_JSON', `body is not valid JSON: ${why}`, 'body'), undefined);
    });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'spikeloop API', version: SOFTWARE_VERSION, description: 'Runs, live feed, channel data and exports of the spikeloop lab controller' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // where lab clients look for the spec first (FastAPI's path): the same document as /docs/json
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  const services = 'services' in opts ? opts.services : buildServices({ log: (line) => app.log.info(line), ...opts });
  const ctx: ApiContext = { ...services, live: new LiveFeed(opts.live), heavy: new HeavyWork(services.pool, services.pool.threads, services.local), fits: new FitJobs(services.store, services.runs, services.pool) };
  for (const route of ROUTES) await app.register(route, { ctx });

  const webDist = opts.webDist === undefined ? DEFAULT_WEB_DIST : opts.webDist;
  const serveWeb = webDist !== false && existsSync(path.join(webDist, 'index.html'));
  if (serveWeb) await app.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: true });

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0];
    // the dashboard's page for its own paths (`/runs/12`), not for a missing file (`/swagger.json`, `/x.csv`):
    // a client asking for a file gets a 404 it can read, not a page of HTML with status 200
    const isFile = /\.[A-Za-z0-9]+$/.test(url);
    if (serveWeb && req.method === 'GET' && !isFile && !url.startsWith('/api/') && !url.startsWith('/docs')) {
      return reply.sendFile('index.html');
    }
    const err = new AppError('ROUTE_NOT_FOUND', `no route ${req.method} ${url}${isFile ? ' (the OpenAPI document is at /openapi.json and /docs/json)' : ''}`);
    return reply.status(err.status).send(err.body());
  });

  // Closing the app (SIGINT/SIGTERM in `serve`, tests) closes the services: stop messages written,
  // outputs to zero, instruments closed.
  app.addHook('preClose', async () => {
    await ctx.fits.close();
    await services.close();
  });
  app.decorate('spikeloop', ctx);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    spikeloop: ApiContext;
  }
}
