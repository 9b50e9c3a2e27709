/**
 * A tiny hash router: `#/runs/12` → the route whose pattern is `/runs/:id`, with params { id: '12' }.
 * Each page is a view module (views/*.ts); new pages (issue 8: bench, compare, sessions, replay, sweeps)
 * add one route entry and, if they want one, a nav entry.
 */
export type Params = Record<string, string>;

/** A mounted page; `unmount` releases sockets, timers and plots. */
export interface ViewInstance {
  unmount(): void;
}

export type ViewFactory = (root: HTMLElement, params: Params, query: URLSearchParams) => ViewInstance;

export interface Route {
  pattern: string;
  view: ViewFactory;
  /** Title shown in the nav, if the page has a nav entry. */
  nav?: string;
}

interface Compiled extends Route {
  re: RegExp;
  keys: string[];
}

export class Router {
  private routes: Compiled[];
  private current: ViewInstance | null = null;
  constructor(
    routes: Route[],
    private root: HTMLElement,
    private onChange: (path: string) => void = () => {},
  ) {
    this.routes = routes.map((r) => {
      const keys: string[] = [];
      const re = new RegExp(
        '^' + r.pattern.replace(/\/:([A-Za-z]+)/g, (_m, k: string) => (keys.push(k), '/([^/]+)')) + '/?$',
      );
      return { ...r, re, keys };
    });
  }

  start(): void {
    window.addEventListener('hashchange', () => this.render());
    this.render();
  }

  static go(path: string): void {
    location.hash = '#' + path;
  }

  private render(): void {
    const raw = location.hash.replace(/^#/, '') || '/';
    const [path, qs] = raw.split('?', 2);
    this.current?.unmount();
    this.current = null;
    this.root.replaceChildren();
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      const params: Params = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      this.onChange(path);
      this.current = r.view(this.root, params, new URLSearchParams(qs ?? ''));
      return;
    }
    this.onChange(path);
    const p = document.createElement('p');
    p.className = 'error-box';
    p.textContent = `No page at ${path}.`;
    this.root.append(p);
  }
}
