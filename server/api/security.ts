/**
 * Who may talk to the server, checked on every HTTP request and on the WebSocket upgrade (the upgrade is a
 * GET that passes the same onRequest hook) before any route runs:
 *  - Host: a loopback name, the address the connection arrived on, or a configured name; anything else
 *    (DNS rebinding: a page on evil.example whose name now resolves to this machine) is refused.
 *  - Origin: when a browser sends one, its scheme, host and port must be this server's (http, an allowed
 *    host, the port the connection arrived on) or a configured origin, so a foreign page, including one
 *    served on another port of this machine (cookies and SameSite do not separate ports), can neither
 *    post to the API nor open the live feed.
 *  - Token (as Jupyter does): `Authorization: Bearer <t>`, `?token=<t>`, or the cookie this hook sets when
 *    a request carries a valid `?token=` (the dashboard is opened once with the URL `serve` prints).
 * docs/security.md says what this protects and what it does not.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors.ts';

export interface SecurityOptions {
  /** The token every request must carry; null: none (`serve --no-token`, loopback binds only). */
  token: string | null;
  /**
   * Host names or addresses accepted besides loopback names and the address a request arrived on. An entry
   * with a scheme or port (`https://lab.example`, `lab.example:8443`) is also an allowed Origin exactly as
   * written; a bare name is allowed as an Origin on this server's port or its scheme's default port (a proxy's).
   */
  allowedHosts?: readonly string[];
}

/**
 * A connection that sends no request within this long is closed, ms. Node closes one whose headers stall
 * (headersTimeout) but not one that sends nothing at all: anyone who reaches the port, token or not, could
 * hold thousands of them open (each a file descriptor of the process that also holds the database and the
 * instruments' ports). Cleared by the first request, so long requests and live feeds are not cut.
 */
export const FIRST_REQUEST_MS = 10_000;

/** A fresh token: 24 random bytes, URL-safe. */
export const newToken = (): string => randomBytes(24).toString('base64url');

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** True for an address or name that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return LOOPBACK_NAMES.has(h) || h.endsWith('.localhost') || (isIP(h) === 4 && h.startsWith('127.')) || /^::ffff:(127\.\d+\.\d+\.\d+|7f[0-9a-f]{2}:[0-9a-f]{1,4})$/.test(h);
}

/**
 * The host part of a Host header value or of an origin's authority ("[::1]:8080" → "::1", "LocalHost.:80" →
 * "localhost"); undefined when it is not `name[:port]` or `[v6][:port]` (e.g. "localhost:80@evil.example").
 * One trailing dot is dropped: "localhost." is the same name as "localhost".
 */
function hostName(authority: string): string | undefined {
  const a = authority.trim().toLowerCase();
  // an IPv6 zone id (`[fe80::1%25eth0]`, RFC 6874, or `%eth0` as some clients write it) names the sender's
  // interface, not this server: the address without it is the host
  const v6 = /^\[([0-9a-f:.]+)(?:%(?:25)?[a-z0-9._~-]+)?\](?::\d{1,5})?$/.exec(a);
  if (v6) return v6[1];
  // a bare IPv6 address (several colons) has no port
  if (/^[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*$/.test(a)) return a;
  const name = /^([a-z0-9_-]+(?:\.[a-z0-9_-]+)*)\.?(?::\d{1,5})?$/.exec(a);
  return name?.[1];
}

/** The port a Host header names ('80' when none: the browser left out http's default port; ':09000' is 9000, as URL reads it). */
function hostPort(authority: string): string {
  const p = /^(?:\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(authority.trim())?.[1];
  return p === undefined ? '80' : String(Number(p));
}

interface Origin {
  scheme: string;
  host: string;
  port: string;
}

/** An Origin header's scheme, host and port (default port filled in); undefined for `null` or garbage. */
function parseOrigin(origin: string): Origin | undefined {
  try {
    const u = new URL(origin);
    const host = hostName(u.host);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || host === undefined) return undefined;
    return { scheme: u.protocol, host, port: u.port || (u.protocol === 'https:' ? '443' : '80') };
  } catch {
    return undefined;
  }
}

const originKey = (o: Origin) => `${o.scheme}//${o.host}:${o.port}`;

/** The cookie name: one per port, so two servers on one machine keep their own tokens. */
function cookieName(req: FastifyRequest): string {
  const m = /:(\d+)$/.exec(req.headers.host ?? '');
  return `spikeloop_token_${m ? m[1] : '80'}`;
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      // a malformed escape (`%E0%A4%A`) is a wrong token (401), not a thrown URIError (it was a 500)
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function queryToken(req: FastifyRequest): string | undefined {
  const q = req.url.indexOf('?');
  return q < 0 ? undefined : (new URLSearchParams(req.url.slice(q + 1)).get('token') ?? undefined);
}

/** A URL with its `?token=` value hidden: a request log must not keep the one secret a URL carries (Jupyter's does too). */
export const redactToken = (url: string): string => url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');

/** Fastify logger serializers for `serve --log`: the request's usual fields, its URL without the token. */
export const logSerializers = {
  req: (req: FastifyRequest) => ({ method: req.method, url: redactToken(req.url), host: req.headers.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
};

/** Registers the checks as the app's first onRequest hook. */
export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  const entries = (opts.allowedHosts ?? []).map((h) => ({ h, o: parseOrigin(/:\/\//.test(h) ? h : `http://${h}`) }));
  // an entry that names no host (`*`, `*.lab.example`, a port of 99999) refused at start: it was dropped silently,
  // and requests under the name meant were then refused with no clue why
  const unread = entries.filter(({ o }) => !o).map(({ h }) => JSON.stringify(h));
  if (unread.length) throw new AppError('VALIDATION', `--allow-host ${unread.join(', ')}: not a host name, address or origin (http[s]://name[:port]); there are no wildcards: name each host`);
  const allowed = new Set(entries.flatMap(({ o }) => (o ? [o.host] : [])));
  // entries written with a scheme or a port: the exact origins (scheme, host, port) they allow
  const exact = entries.filter(({ h }) => /:\/\/|:\d+$/.test(h));
  const allowedOrigins = new Set(exact.flatMap(({ o }) => (o ? [originKey(o)] : [])));
  const bareNames = new Set(entries.filter((e) => !exact.includes(e)).flatMap(({ o }) => (o ? [o.host] : [])));
  const expected = opts.token === null ? undefined : digest(opts.token);
  const hostOk = (name: string | undefined, req: FastifyRequest) => {
    if (name === undefined) return false;
    if (isLoopback(name) || allowed.has(name)) return true;
    // the address the connection arrived on (a bind to 0.0.0.0 answers on each of the machine's addresses)
    // (a link-local one with its zone, `fe80::1%eth0`, which a Host never carries: curl sends `[fe80::1]:port`)
    const local = req.socket?.localAddress?.replace(/^::ffff:/, '').replace(/%.*$/, '').toLowerCase();
    return local !== undefined && name === local;
  };
  const originOk = (o: Origin | undefined, req: FastifyRequest) => {
    if (!o) return false;
    if (allowedOrigins.has(originKey(o))) return true;
    if (!hostOk(o.host, req)) return false;
    const port = String(req.socket?.localPort ?? '');
    // a bare allowed name: also the default port of its scheme (a reverse proxy in front of this server)
    if (bareNames.has(o.host) && o.port === (o.scheme === 'https:' ? '443' : '80')) return true;
    if (o.scheme !== 'http:') return false;
    // the page's own origin as the browser names this server: its Host (an allowed one, checked first), which
    // differs from the socket's port behind a port mapping (docker -p 9000:8080) or a plain-HTTP proxy
    const host = req.headers.host ?? '';
    return o.port === port || (o.host === hostName(host) && o.port === hostPort(host));
  };
  const refuse = (reply: FastifyReply, err: AppError) => {
    if (err.status === 401) void reply.header('www-authenticate', 'Bearer realm="spikeloop"');
    // The connection ends with the refusal: Node would otherwise read a body sent after it (a Content-Length of
    // gigabytes, trickled) for as long as it comes, past FIRST_REQUEST_MS, with no token ever seen.
    void reply.header('connection', 'close');
    // A refused WebSocket upgrade: its socket is no longer the HTTP server's to close, so close it here.
    if (reply.request.headers.upgrade) reply.raw.once('finish', () => reply.request.raw.socket.end());
    return reply.status(err.status).type('application/json').send(err.body());
  };

  // a request came: the connection's first-request timer is done (keep-alive between requests is Node's own; an
  // upgrade's socket is cleared by the WebSocket library)
  app.server.on('connection', (socket: import('node:net').Socket) => socket.setTimeout(FIRST_REQUEST_MS));
  app.server.on('request', (req: import('node:http').IncomingMessage) => req.socket.setTimeout(0));
  app.addHook('onRequest', async (req, reply) => {
    // Never inside another page's frame (a page on another port of this host is same-site, so its frame would
    // get the cookie: clicks could be steered onto Start or Delete), and a URL with ?token= never leaves in a Referer.
    void reply.headers({ 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'", 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' });
    const host = req.headers.host;
    if (!host || !hostOk(hostName(host), req)) {
      return refuse(reply, new AppError('FORBIDDEN_HOST', `Host ${String(host ?? '(none)')} is not this server (allowed: loopback names, the bound address, serve --allow-host)`));
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !originOk(parseOrigin(origin), req)) {
      return refuse(reply, new AppError('FORBIDDEN_ORIGIN', `requests from origin ${origin} are refused (only pages this server serves may drive it: a page of another site or of another port may not)`));
    }
    // No Origin, yet the browser says another site's page made the request (an <img>, <script> or <link>; a
    // page on another port of this host is "same-site" and its requests carry the dashboard's cookie).
    // Following a link to the dashboard (a top-level navigation) stays allowed, and so does a download the user
    // asks for ("Save link as…" on an export link: Chromium sends it as a navigation whose destination is empty,
    // Fetch's download); either answer goes to the user's window or disk, never to the page. Loading it into a
    // frame does not, nor a `no-cors` fetch (Firefox's downloads look like one, and so does a page's script).
    const site = req.headers['sec-fetch-site'];
    const dest = req.headers['sec-fetch-dest'] ?? 'document';
    const followsLink = req.method === 'GET' && req.headers['sec-fetch-mode'] === 'navigate' && (dest === 'document' || dest === 'empty');
    if (origin === undefined && (site === 'cross-site' || site === 'same-site') && !followsLink) {
      return refuse(reply, new AppError('FORBIDDEN_ORIGIN', `requests made by a page of another site or port (Sec-Fetch-Site: ${site}) are refused`));
    }
    const fromQuery = queryToken(req);
    // `token` names the credential, never a route's parameter: take it out before the routes' query schemas
    // (closed objects) see it, so `?token=` works on every route, `GET /api/runs?limit=5&token=…` included
    if (fromQuery !== undefined && req.query && typeof req.query === 'object') delete (req.query as Record<string, unknown>).token;
    if (!expected) return;
    const name = cookieName(req);
    const auth = req.headers.authorization;
    // the scheme's name is case-insensitive (RFC 9110 §11.1): "bearer <t>" is as good as "Bearer <t>"
    const bearer = auth === undefined ? undefined : /^bearer +(\S+) *$/i.exec(auth)?.[1];
    const given = bearer ?? fromQuery ?? readCookie(req, name);
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      return refuse(reply, new AppError('UNAUTHORIZED', `this server needs its token (${given === undefined ? 'no token given' : 'wrong token'}): open the URL \`spikeloop serve\` printed (…/?token=…), or send Authorization: Bearer <token>`));
    }
    // Opened with ?token=: the dashboard's later requests (fetch, WebSocket, /docs) carry it as a cookie,
    // which a foreign site's requests never get (SameSite=Strict) and page scripts cannot read (HttpOnly).
    if (fromQuery !== undefined) {
      void reply.header('set-cookie', `${name}=${encodeURIComponent(fromQuery)}; Path=/; HttpOnly; SameSite=Strict`);
    }
  });
}
