/**
 * `#/replay/:id`: a stored run played back through the live view (views/live-view.ts) at a chosen speed
 * (0.1x–10x), with play/pause, a scrub bar, and jumps to the previous/next spike or marker.
 *
 * Client-side replay: a feed here turns stored data into the live feed's own messages — min/max envelopes
 * (`GET /api/runs/:id/channels/:ch/envelope`) become `block`s at the decimation the live view asks for,
 * stored events (`GET /api/runs/:id/events`) become `events` batches — loaded chunk by chunk just ahead of
 * the playhead. The live view draws them exactly as it draws a running run, with the playhead as its right
 * edge. A seek forgets what was loaded and starts again one window before the new playhead.
 */
import { api, ApiError, type EventKind, type LiveMessage, type RunDetail, type RunEvent } from '../api.ts';
import { h } from '../dom.ts';
import { si, count } from '../format.ts';
import type { Params, ViewInstance } from '../router.ts';
import { mountLiveView, type FeedHandle, type LiveViewInstance } from './live-view.ts';

export const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10];
/** Envelope pixels per request (the API's maximum is 10 000). */
const MAX_PAIRS_PER_CHUNK = 10_000;

export function replayPage(root: HTMLElement, params: Params, query: URLSearchParams): ViewInstance {
  const id = Number(params.id);
  const page = h('div', { class: 'page replay-page' });
  root.append(page);
  const ac = new AbortController();
  let player: Player | null = null;
  let gone = false;

  const fail = (msg: string) =>
    page.replaceChildren(h('div', { class: 'error-box', role: 'alert' }, msg), h('p', {}, h('a', { href: '#/' }, '← All runs')));

  void (async () => {
    if (!Number.isInteger(id) || id < 1) return fail(`"${params.id}" is not a run id.`);
    page.replaceChildren(h('p', { class: 'loading' }, `Loading run ${id}…`));
    try {
      const run = await api.getRun(id, ac.signal);
      if (gone) return;
      if (run.status === 'running') {
        return page.replaceChildren(
          h('p', {}, `Run ${id} is still running: `, h('a', { href: `#/runs/${id}` }, 'watch it live'), '. It can be replayed once it has ended.'),
        );
      }
      if (run.channels.length === 0 || run.channels.every((c) => c.sampleCount === 0)) return fail(`Run ${id} holds no samples to replay.`);
      player = new Player(page, run, Number(query.get('speed')) || 1);
    } catch (e) {
      if (gone) return;
      if (e instanceof ApiError && e.status === 404) fail(`Run ${id} does not exist (it may have been deleted).`);
      else fail(`Could not load run ${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  })();

  return {
    unmount() {
      gone = true;
      ac.abort();
      player?.destroy();
      page.remove();
    },
  };
}

class Player {
  /** Playhead (s): the right edge of the visible window. */
  private t = 0;
  private speed: number;
  private playing = false;
  private readonly duration: number;
  private readonly rate: number;
  private view: LiveViewInstance;
  private emit: (m: LiveMessage) => void = () => {};
  /** Loaded up to this sample index (channel clock); bumped on every seek so late answers are ignored. */
  private loadedEnd = 0;
  private loading = false;
  private generation = 0;
  private raf = 0;
  private last = performance.now();
  private readonly ac = new AbortController();
  /** `status` says what a jump found (it stays until the next jump); `loading` says when loading fails. */
  private readonly els: { play: HTMLButtonElement; scrub: HTMLInputElement; time: HTMLElement; speed: HTMLSelectElement; status: HTMLElement; loading: HTMLElement };
  private scrubbing = false;
  /** The event the last jump centred on, while the playhead has not moved since. */
  private anchor: { index: number; t: number } | null = null;

  constructor(
    private readonly page: HTMLElement,
    private readonly run: RunDetail,
    speed: number,
  ) {
    this.rate = run.channels[0].sampleRate;
    this.duration = Math.max(...run.channels.map((c) => c.sampleCount / c.sampleRate));
    this.speed = SPEEDS.includes(speed) ? speed : 1;

    const play = h('button', { class: 'small', 'data-action': 'play', onclick: () => this.setPlaying(!this.playing) }, 'Play') as HTMLButtonElement;
    const speedSel = h('select', { 'aria-label': 'Replay speed', class: 'compact', 'data-control': 'speed' }) as HTMLSelectElement;
    for (const s of SPEEDS) speedSel.append(h('option', { value: String(s) }, `${s}×`));
    speedSel.value = String(this.speed);
    speedSel.addEventListener('change', () => (this.speed = Number(speedSel.value)));
    const scrub = h('input', {
      type: 'range',
      min: '0',
      max: String(this.duration),
      step: 'any',
      value: '0',
      'aria-label': 'Playback position',
      'data-control': 'scrub',
      class: 'scrub',
    }) as HTMLInputElement;
    scrub.addEventListener('input', () => {
      this.scrubbing = true;
      this.seek(Number(scrub.value));
    });
    scrub.addEventListener('change', () => (this.scrubbing = false));
    const jump = (kind: EventKind, dir: 1 | -1, text: string) =>
      h('button', { class: 'small', 'data-action': `${dir > 0 ? 'next' : 'prev'}-${kind}`, onclick: () => void this.jump(kind, dir) }, text);
    const time = h('span', { class: 'stat', 'data-stat': 'playhead' }, '');
    const status = h('span', { class: 'stat', 'data-stat': 'replay-status', role: 'status' }, '');
    const loading = h('span', { class: 'stat error-text', 'data-stat': 'replay-loading', role: 'alert' }, '');
    const controls = h(
      'div',
      { class: 'toolbar replay-controls' },
      play,
      speedSel,
      jump('spike', -1, '◀ spike'),
      jump('spike', 1, 'spike ▶'),
      jump('marker', -1, '◀ marker'),
      jump('marker', 1, 'marker ▶'),
      jump('fault', -1, '◀ fault'),
      jump('fault', 1, 'fault ▶'),
      time,
      status,
      loading,
    );
    this.els = { play, scrub, time, speed: speedSel, status, loading };
    const head = h(
      'div',
      { class: 'run-header' },
      h('h2', {}, `Replay of run ${run.id}`, run.label ? ` · ${run.label}` : ''),
      h('p', {}, `${si(this.duration, 's')} recorded, ${count(run.eventCounts.spike, 'spike')}, ${count(run.eventCounts.marker, 'marker')}, ${count(run.eventCounts.fault, 'fault')} · `, h('a', { href: `#/runs/${run.id}` }, 'stored view')),
    );
    const viewEl = h('div', { class: 'replay-view' });
    page.replaceChildren(head, controls, scrub, viewEl);

    this.view = mountLiveView(viewEl, run, { onStop: () => {}, onLost: () => {} }, {
      replay: {
        connect: (onMessage): FeedHandle => {
          this.emit = onMessage;
          // A new decimation (the window changed): reload at the new resolution from the current position.
          return { requestRate: () => this.view && this.seek(this.t), close: () => this.ac.abort() };
        },
        playhead: () => this.t,
      },
    });
    this.seek(Math.min(this.view.windowS, this.duration));
    this.raf = requestAnimationFrame(this.tick);
  }

  private readonly tick = (now: number) => {
    this.raf = requestAnimationFrame(this.tick);
    const dt = Math.min(0.25, (now - this.last) / 1000);
    this.last = now;
    if (this.playing) {
      // Never run ahead of what is loaded (a slow server makes playback wait, not skip).
      const loadedS = this.loadedEnd / this.rate;
      this.t = Math.min(this.t + dt * this.speed, this.duration, Math.max(this.t, loadedS));
      if (this.t >= this.duration) this.setPlaying(false);
    }
    this.load();
    this.showPosition();
  };

  private showPosition(): void {
    if (!this.scrubbing) this.els.scrub.value = String(this.t);
    this.page.dataset.playhead = this.t.toFixed(6);
    // The one time readout: the playhead (the window's right edge), the scrub bar's value.
    this.els.time.textContent = `t = ${si(this.t, 's', 4)} of ${si(this.duration, 's')}`;
  }

  private setPlaying(on: boolean): void {
    if (on && this.t >= this.duration) this.seek(Math.min(this.view.windowS, this.duration));
    this.playing = on;
    this.page.dataset.playing = String(on);
    this.els.play.textContent = on ? 'Pause' : 'Play';
  }

  /** Moves the playhead; the view forgets its data and loading starts one window before the new position. */
  private seek(t: number): void {
    this.t = Math.max(0, Math.min(this.duration, t));
    this.generation++;
    this.loading = false;
    this.view.reset();
    this.loadedEnd = Math.max(0, Math.floor((this.t - this.view.windowS) * this.rate));
    this.load();
    this.showPosition();
  }

  /** Loads the next chunk when the playhead is within a second of playback (at this speed) of its end. */
  private load(): void {
    const total = Math.round(this.duration * this.rate);
    if (this.loading || this.loadedEnd >= total) return;
    const ahead = this.loadedEnd / this.rate - this.t;
    if (ahead > Math.max(0.5, this.speed)) return;
    const stride = Math.max(1, Math.ceil(this.rate / this.view.pairsPerSecond));
    const pairs = Math.min(MAX_PAIRS_PER_CHUNK, Math.max(100, Math.ceil((Math.max(1, this.speed * 2) * this.rate) / stride)));
    const start = this.loadedEnd;
    const end = Math.min(total, start + pairs * stride);
    const gen = this.generation;
    this.loading = true;
    void this.fetchChunk(start, end, stride)
      .then((msgs) => {
        if (gen !== this.generation) return;
        for (const m of msgs) this.emit(m);
        this.loadedEnd = end;
        this.els.loading.textContent = '';
      })
      .catch((e: unknown) => {
        if (gen !== this.generation || this.ac.signal.aborted) return;
        this.els.loading.textContent = `Loading failed: ${e instanceof Error ? e.message : String(e)} (retrying)`;
        return new Promise((r) => setTimeout(r, 1000));
      })
      .finally(() => {
        if (gen === this.generation) this.loading = false;
      });
  }

  /** One chunk as live-feed messages: a block per channel (split at gaps), then the chunk's events. */
  private async fetchChunk(start: number, end: number, stride: number): Promise<LiveMessage[]> {
    const signal = this.ac.signal;
    const pixels = Math.max(1, Math.round((end - start) / stride));
    const [envs, events] = await Promise.all([
      Promise.all(
        this.run.channels.map((c) => {
          const chEnd = Math.min(end, c.sampleCount);
          return chEnd > start ? api.envelope(this.run.id, c.index, start, chEnd, Math.max(1, Math.min(pixels, chEnd - start)), signal) : null;
        }),
      ),
      api.events(this.run.id, { start, end, limit: 100_000 }, signal),
    ]);
    const out: LiveMessage[] = [];
    envs.forEach((env, channel) => {
      if (!env) return;
      let k = 0;
      while (k < env.pixels) {
        while (k < env.pixels && env.min[k] === null) k++;
        const first = k;
        while (k < env.pixels && env.min[k] !== null) k++;
        if (k > first) {
          out.push({
            type: 'block',
            channel,
            firstIndex: env.start + first * env.samplesPerPixel,
            stride: env.samplesPerPixel,
            min: env.min.slice(first, k) as number[],
            max: env.max.slice(first, k) as number[],
          });
        }
      }
    });
    out.push({ type: 'events', events, dropped: 0 });
    return out;
  }

  /** Centres the view on the previous/next event of a kind, counted from the centre of the window. */
  private async jump(kind: EventKind, dir: 1 | -1): Promise<void> {
    const w = this.view.windowS;
    const centre = this.anchor && this.anchor.t === this.t ? this.anchor.index : Math.max(0, Math.round((this.t - w / 2) * this.rate));
    const total = Math.round(this.duration * this.rate);
    try {
      let found: RunEvent | undefined;
      if (dir > 0) {
        if (centre + 1 < total) found = (await api.events(this.run.id, { start: centre + 1, kind, limit: 1 }, this.ac.signal))[0];
      } else {
        // Backwards: look in growing windows before the centre, keep the last event found.
        for (let span = Math.ceil(this.rate * 0.05); centre > 0; span *= 10) {
          const from = Math.max(0, centre - span);
          const evs = await api.events(this.run.id, { start: from, end: centre, kind, limit: 100_000 }, this.ac.signal);
          if (evs.length > 0) {
            found = evs[evs.length - 1];
            break;
          }
          if (from === 0) break;
        }
      }
      if (found === undefined) {
        this.els.status.textContent = `No ${dir > 0 ? 'later' : 'earlier'} ${kind}.`;
        return;
      }
      // Markers and faults say what they are (a marker's text, a fault's reason).
      this.els.status.textContent = `${kind} at ${si(found.index / this.rate, 's', 5)} (centre of the window)${found.label ? `: ${found.label}` : ''}`;
      this.page.dataset.jumpedTo = String(found.index);
      this.seek(found.index / this.rate + w / 2);
      this.anchor = { index: found.index, t: this.t };
    } catch (e) {
      if (!this.ac.signal.aborted) this.els.status.textContent = `Jump failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  destroy(): void {
    cancelAnimationFrame(this.raf);
    this.ac.abort();
    this.view.unmount();
  }
}
