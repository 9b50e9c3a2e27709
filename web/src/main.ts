/**
 * The spikeloop dashboard: a shell (header, nav, server status) around hash-routed pages. Pages are view
 * modules in ./views; the later pages (bench, compare, sessions, replay, sweeps) are added to ROUTES.
 */
import './style.css';
import { api, onConnectivity } from './api.ts';
import { h } from './dom.ts';
import './metrics.ts';
import { installPngButtons } from './plots/png.ts';
import { Router, type Route } from './router.ts';
import { newRun } from './views/new-run.ts';
import { runPage } from './views/run-page.ts';
import { runsList } from './views/runs-list.ts';
import { sweepsPage } from './views/sweeps.ts';
import { benchPage } from './views/bench.ts';
import { comparePage } from './views/compare.ts';
import { replayPage } from './views/replay.ts';
import { overlayPage } from './views/overlay.ts';
import { sessionsPage } from './views/sessions.ts';

// Opened with the URL `spikeloop serve` printed (…/?token=…): the server answered with its cookie, which every
// later request and the live WebSocket carry, so the token leaves the address bar and the history.
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname + location.hash);

const ROUTES: Route[] = [
  { pattern: '/', view: runsList, nav: 'Runs' },
  { pattern: '/new', view: newRun, nav: 'New run' },
  { pattern: '/runs/:id', view: runPage },
  { pattern: '/sessions', view: sessionsPage, nav: 'Sessions' },
  { pattern: '/sweeps', view: sweepsPage, nav: 'Sweeps' },
  { pattern: '/bench', view: benchPage, nav: 'Bench' },
  { pattern: '/compare/:id', view: comparePage },
  { pattern: '/sweeps/:id', view: sweepsPage },
  { pattern: '/replay/:id', view: replayPage },
  { pattern: '/overlay', view: overlayPage },
];

const navLinks = ROUTES.filter((r) => r.nav).map((r) => h('a', { href: `#${r.pattern}`, 'data-path': r.pattern }, r.nav!));
const serverEl = h('span', { class: 'server-status', 'data-server': 'unknown' }, 'connecting…');
const banner = h('div', { class: 'banner', role: 'alert', hidden: true });
const main = h('main', { id: 'page' });
document.querySelector('#app')!.replaceChildren(
  h('header', { class: 'app-header' }, h('a', { class: 'brand', href: '#/' }, 'spikeloop'), h('nav', {}, ...navLinks), h('span', { class: 'spacer' }), h('a', { class: 'docs-link', href: '/docs', target: '_blank' }, 'API docs'), serverEl),
  banner,
  main,
);

installPngButtons();
new Router(ROUTES, main, (path) => {
  for (const a of navLinks) a.classList.toggle('active', a.dataset.path === path);
  const run = /^\/runs\/(\d+)/.exec(path);
  document.title = run ? `Run ${run[1]} · spikeloop` : path === '/new' ? 'New run · spikeloop' : 'spikeloop';
}).start();

// Server status: a health check every 5 s, plus whatever every other request finds out.
let version = '';
function setServer(ok: boolean, detail?: string): void {
  serverEl.dataset.server = ok ? 'up' : 'down';
  serverEl.textContent = ok ? `server ok${version ? ' · v' + version : ''}` : 'server unreachable';
  banner.hidden = ok;
  if (!ok) banner.textContent = `The spikeloop server at ${location.host} is not answering. Retrying every 5 s…`;
  if (!ok && detail) banner.title = detail;
}
onConnectivity((ok, err) => setServer(ok, err?.message));
async function health(): Promise<void> {
  try {
    version = (await api.health()).version;
    setServer(true);
  } catch {
    /* reported through onConnectivity */
  }
}
void health();
setInterval(() => void health(), 5000);
