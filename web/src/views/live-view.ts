/**
 * The live view of a running run: the WebSocket feed (`/api/runs/:id/live`) goes into one bounded
 * min/max ring per channel; one animation-frame loop redraws every channel's plot (scrolling window, at
 * most one min/max pair per pixel column). Blocks only mark the view dirty; drawing happens once per frame.
 * Events arrive batched (one `events` message per server flush).
 *
 * The same view plays stored runs back (views/replay.ts): the caller then supplies the feed (messages of
 * the same shapes, built from stored envelopes) and the playhead, and can `reset()` the view after a seek.
 *
 * Per channel visibility and y axes, measurement cursors and the X–Y view are the stored view's components
 * (channel-controls.ts, plots/cursors.ts, xy-panel.ts), fed from the ring buffers; a hidden channel is not drawn.
 *
 * Latency: blocks carry the server's wall time of their newest sample; when a frame first shows that
 * sample, `Date.now() - wallTime` goes into `window.spikeloop.live.latencyMs` (the live_latency_ms bench).
 */
import { LiveConnection, type ChannelInfo, type EventKind, type LiveMessage, type RunSummary, type FinalStatus } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { FpsMeter, freshLiveMetrics, metrics } from '../metrics.ts';
import { MinMaxBuffer, type Columns } from '../plots/minmax-buffer.ts';
import { TracePlot, fitPlotHeight, type PlotEvent, type PlotSpan } from '../plots/trace-plot.ts';
import { PAUSE_LABEL } from '../components/run-events.ts';
import { channelControls } from '../components/channel-controls.ts';
import { MAX_POINTS, pairColumns, xyPanel, type XYSource } from '../components/xy-panel.ts';
import { CursorTool } from '../plots/cursors.ts';
import { channelTitle, protocolDuration, shownFactor, shownUnit } from './describe.ts';
import { ROLE_COLORS } from './stored-view.ts';

export interface LiveViewCallbacks {
  /** The server said the run ended. */
  onStop(status: FinalStatus, reason: string | null): void;
  /** The socket closed without a stop message (server went away). */
  onLost(detail: string): void;
  /** The run's event totals changed (live runs: the stored counts at connection plus every event since). */
  onCounts?(counts: Record<EventKind, number>): void;
}

/** What feeds the view: the run's WebSocket (LiveConnection) or a replay of stored data. */
export interface FeedHandle {
  requestRate(pairsPerSecond: number): void;
  close(): void;
}

export interface LiveViewOptions {
  /** Replay instead of live: the caller's feed and playhead (s) drive the view. */
  replay?: {
    connect(onMessage: (m: LiveMessage) => void): FeedHandle;
    /** Right edge of the visible window (s). */
    playhead(): number;
  };
}

export interface LiveViewInstance {
  unmount(): void;
  /** Forget all data and events (after a seek in a replay). */
  reset(): void;
  /** The visible window length (s) the user chose. */
  readonly windowS: number;
  /** The decimation (pairs/s per channel) the view asked its feed for. */
  readonly pairsPerSecond: number;
}

const WINDOWS = [0.1, 0.2, 0.5, 1, 2, 5, 10];
/** Redraw lag behind the newest sample at most this much (s): smooth scrolling without running ahead of data
 * (the head normally catches up within a few frames; see frame()). */
const MAX_LAG_S = 0.25;

interface Lane {
  ch: ChannelInfo;
  buf: MinMaxBuffer;
  plot: TracePlot;
  el: HTMLElement;
  controls: ReturnType<typeof channelControls>;
  /** Physical value → plotted value (the bench configuration's conversion). */
  factor: number;
  /** The sample index the next block should start at (a later one leaves a gap: samples the source lost). */
  next: number;
  cols?: Columns;
  /** This lane's events in arrival (= time) order: its spikes, and markers/faults of any channel. */
  events: PlotEvent[];
}

/** Events kept per lane; older ones are dropped in halves (the longest window holds far fewer at any sane rate). */
const MAX_EVENTS = 40_000;

export function mountLiveView(container: HTMLElement, run: RunSummary, cb: LiveViewCallbacks, opts: LiveViewOptions = {}): LiveViewInstance {
  const replay = opts.replay;
  const planned = protocolDuration(run.protocol) ?? 2;
  let windowS = WINDOWS.find((w) => w >= Math.min(2, planned)) ?? 2;

  const fpsEl = h('span', { class: 'stat', 'data-stat': 'fps' }, '— fps');
  const rateEl = h('span', { class: 'stat', 'data-stat': 'rate' }, '');
  // A replay shows its own time readout (views/replay.ts): one readout per page.
  const timeEl = h('span', { class: 'stat', 'data-stat': 'time', hidden: Boolean(opts.replay) }, '');
  const dropEl = h('span', { class: 'stat warn', hidden: true }, '');
  // In a replay, events are loaded ahead of the playhead: a running count would mislead.
  const spikesEl = h('span', { class: 'stat', 'data-stat': 'spikes', hidden: Boolean(opts.replay) }, '');
  /** The run's totals: what the store held when the feed said hello, plus every event since. */
  const counts: Record<EventKind, number> = { spike: 0, marker: 0, fault: 0 };
  /** Gaps (dropped samples), faults that lost samples and pauses, shared by every lane. */
  const spans: PlotSpan[] = [];
  /** Events received (any kind), to notice new marks in an otherwise unchanged window. */
  let events = 0;
  const winSel = h('select', { 'aria-label': 'Visible window', class: 'compact' });
  for (const w of WINDOWS) winSel.append(h('option', { value: String(w) }, `last ${si(w, 's')}`));
  winSel.value = String(windowS);
  winSel.addEventListener('change', () => {
    windowS = Number(winSel.value);
    askRate();
  });
  const cursors = new CursorTool(
    () => [...lanes.values()].filter((l) => !l.el.hidden).map((l) => ({ name: l.ch.label || l.ch.name, unit: shownUnit(l.ch), valueAt: (t: number) => l.plot.valueAt(t) })),
    () => lanes.forEach((l) => l.plot.redraw()),
  );
  const toolbar = h('div', { class: 'toolbar' }, replay ? h('span', { class: 'replay-dot' }, 'REPLAY') : h('span', { class: 'live-dot' }, 'LIVE'), winSel, timeEl, spikesEl, rateEl, fpsEl, dropEl, h('span', { class: 'spacer' }), cursors.el);
  const controlsEl = h('details', { class: 'channel-controls-box' }, h('summary', {}, 'Channels: visibility and y axes'));
  const plotsEl = h('div', { class: 'plots' });
  const root = h('section', { class: 'live-view', 'data-view': replay ? 'replay' : 'live' }, toolbar, controlsEl, plotsEl);
  container.append(root);
  /** The window the last frame drew (s): the X–Y view's window. */
  let drawnWindow: [number, number] = [0, windowS];
  let xy: ReturnType<typeof xyPanel> | null = null;
  /** X–Y points from the ring buffers (already in the plotted units). */
  const bufferXY: XYSource = async (cx, cy, w0, w1) => {
    const a = lanes.get(cx.index);
    const b = lanes.get(cy.index);
    if (!a || !b) return null;
    const ca = a.buf.window(w0, w1, MAX_POINTS);
    return pairColumns(ca, b.buf.window(w0, w1, MAX_POINTS), ca.length ? ((w1 - w0) * cx.sampleRate) / ca.length : 1);
  };

  Object.assign(metrics.live, freshLiveMetrics());
  const lanes = new Map<number, Lane>();
  let dropped = 0;
  let eventsDropped = 0;
  /** (time just after the newest sample of a block, server wall time of that sample), oldest first. */
  let stamps: { t: number; wall: number }[] = [];
  const showDrops = () => {
    dropEl.hidden = false;
    dropEl.textContent = [
      dropped > 0 ? `${dropped.toLocaleString()} samples` : '',
      eventsDropped > 0 ? `${eventsDropped.toLocaleString()} events` : '',
    ].filter(Boolean).join(', ') + ' not shown (slow connection)';
  };

  const width = () => Math.max(400, plotsEl.clientWidth || container.clientWidth || 1000);
  const visibleCount = () => Math.max(1, [...lanes.values()].filter((l) => !l.el.hidden).length);
  function buildLanes(r: RunSummary): void {
    if (lanes.size > 0) return;
    for (const ch of r.channels) {
      const el = h('div', { class: 'plot', 'data-channel': String(ch.index) });
      plotsEl.append(el);
      const plot = new TracePlot(el, {
        title: `${channelTitle(ch)} · ${ch.name}, ${si(ch.sampleRate, 'S/s')}`,
        unit: shownUnit(ch),
        color: ROLE_COLORS[ch.role] ?? '#444',
        width: width(),
        height: fitPlotHeight(plotsEl, r.channels.length),
        liveLegend: false,
        // no zoom while the window scrolls: a click places a measurement cursor
        interact: { click: (t) => void cursors.place(t) },
        cursors: cursors.state,
      });
      plot.spans = spans;
      const controls = channelControls({ label: ch.label || ch.name, el, plot, key: String(ch.index) }, () => resize(true));
      controlsEl.append(controls.el);
      lanes.set(ch.index, { ch, buf: new MinMaxBuffer(ch.sampleRate), plot, el, controls, events: [], factor: shownFactor(ch), next: -1 });
    }
    xy = xyPanel(r, r.channels, () => drawnWindow, bufferXY);
    toolbar.append(xy.toggle);
    root.append(xy.el);
  }
  if (run.channels.length > 0) buildLanes(run);

  let lastWidth = 0;
  /** metrics.live.pairs at the last drawn frame (-1: draw the next frame whatever arrived). */
  let lastPairs = -1;
  function resize(force = false): void {
    const w = width();
    if (w === lastWidth && !force) return;
    lastWidth = w;
    for (const l of lanes.values()) l.plot.setSize(w, fitPlotHeight(plotsEl, visibleCount()));
    // a channel shown again is drawn at the next frame, even when no data arrives
    lastPairs = -1;
  }
  const ro = new ResizeObserver(() => resize());
  ro.observe(plotsEl);

  let ended = false;
  const onMessage = (m: LiveMessage) => {
    switch (m.type) {
      case 'hello':
        buildLanes(m.run);
        if (!replay && m.run.eventCounts) {
          Object.assign(counts, m.run.eventCounts);
          showCounts();
        }
        break;
      case 'block': {
        const lane = lanes.get(m.channel);
        if (!lane) break;
        if (lane.next >= 0 && m.firstIndex - lane.next >= Math.max(1, m.stride)) gap(lane, lane.next, m.firstIndex);
        lane.next = Math.max(lane.next, m.firstIndex + m.min.length * m.stride);
        if (lane.factor === 1) lane.buf.push(m.firstIndex, m.stride, m.min, m.max);
        else {
          const f = lane.factor;
          const a = m.min.map((v) => v * f);
          const b = m.max.map((v) => v * f);
          lane.buf.push(m.firstIndex, m.stride, f < 0 ? b : a, f < 0 ? a : b);
        }
        metrics.live.pairs += m.min.length;
        metrics.live.lastIndex[m.channel] = m.firstIndex + m.min.length * m.stride - 1;
        if (m.wallTime && m.min.length > 0) {
          stamps.push({ t: (m.firstIndex + (m.min.length - 1) * m.stride) / lane.buf.sampleRate, wall: m.wallTime });
          if (stamps.length > 1000) stamps.splice(0, 500);
          const arrival = metrics.live.arrivalMs;
          arrival.push(Date.now() - m.wallTime);
          if (arrival.length > 20_000) arrival.splice(0, 10_000);
        }
        break;
      }
      case 'events': {
        const first = lanes.values().next().value;
        for (const e of m.events) {
          const own = lanes.get(e.channel ?? -1);
          const rate = (own ?? first)?.buf.sampleRate;
          if (!rate) break;
          const ev: PlotEvent = { t: e.index / rate, kind: e.kind, label: e.label };
          counts[e.kind]++;
          events++;
          if (e.kind === 'marker' && e.label && PAUSE_LABEL.test(e.label)) {
            spans.push({ t0: ev.t, t1: ev.t, kind: 'pause', label: e.label });
            continue;
          }
          if (e.kind === 'fault') {
            faultAt(ev.t, e.label ?? 'fault', rate);
            continue;
          }
          for (const l of e.kind === 'spike' && own ? [own] : lanes.values()) {
            l.events.push(ev);
            if (l.events.length > MAX_EVENTS) l.events.splice(0, MAX_EVENTS / 2);
          }
        }
        if (m.dropped > 0) {
          eventsDropped += m.dropped;
          showDrops();
        }
        showCounts();
        break;
      }
      case 'rate':
        metrics.live.pairsPerSecond = m.pairsPerSecond;
        rateEl.textContent = `${si(m.pairsPerSecond, 'pairs/s')} per channel`;
        break;
      case 'dropped': {
        // Not sent to this client (slow connection): recorded on the server, only not shown here.
        const lane = lanes.get(m.channel);
        if (lane) {
          const t0 = m.start / lane.buf.sampleRate;
          const own = spans.find((s) => s.kind === 'dropped' && Math.abs(s.t0 - t0) <= 1.5 / lane.buf.sampleRate);
          if (own) Object.assign(own, { label: 'not shown', detail: 'recorded, but not sent to this page (slow connection)' });
          lane.next = Math.max(lane.next, m.end);
        }
        lane?.buf.drop(m.start, m.end);
        dropped += m.end - m.start;
        showDrops();
        break;
      }
      case 'stop':
        ended = true;
        cb.onStop(m.status, m.reason ?? null);
        break;
    }
  };
  /** Samples [a, b) of a lane never arrived: one span per gap over all lanes, joined with a fault at its start. */
  function gap(lane: Lane, a: number, b: number): void {
    const rate = lane.buf.sampleRate;
    const t0 = a / rate;
    const n = b - a;
    const same = spans.find((s) => (s.kind === 'dropped' || s.kind === 'fault') && Math.abs(s.t0 - t0) <= 1.5 / rate);
    if (same) {
      same.t1 = Math.max(same.t1, b / rate);
      same.detail = `${n.toLocaleString()} samples lost per channel`;
    } else spans.push({ t0, t1: b / rate, kind: 'dropped', label: 'dropped', detail: `${n.toLocaleString()} samples lost` });
    events++;
  }
  /** A fault: the span of the gap it starts (now or when its samples are found missing), else a labelled line. */
  function faultAt(t: number, label: string, rate: number): void {
    const same = spans.find((s) => s.kind === 'dropped' && Math.abs(s.t0 - t) <= 1.5 / rate);
    if (same) Object.assign(same, { kind: 'fault', label });
    else spans.push({ t0: t, t1: t, kind: 'fault', label });
  }
  /** The totals on the page at most 4 times a second (a DOM write per server flush would cost frames). */
  let countsTimer: ReturnType<typeof setTimeout> | undefined;
  function showCounts(): void {
    countsTimer ??= setTimeout(() => {
      countsTimer = undefined;
      spikesEl.textContent = `${counts.spike.toLocaleString()} spikes · ${counts.marker.toLocaleString()} markers · ${counts.fault.toLocaleString()} faults`;
      cb.onCounts?.({ ...counts });
    }, 250);
  }

  const conn: FeedHandle = replay
    ? replay.connect(onMessage)
    : new LiveConnection(run.id, {
        onMessage,
        onClose: (clean, detail) => {
          if (!clean && !ended && !unmounted) cb.onLost(detail);
        },
      });

  /**
   * Short windows want finer decimation: ask for about one pair per pixel column over the window
   * (never below the server's default of 2000 pairs/s, never above its maximum of 20000).
   */
  let asked = 2000;
  function askRate(): void {
    asked = Math.min(20_000, Math.max(2000, Math.ceil(width() / windowS)));
    conn.requestRate(asked);
  }
  askRate();

  // The draw loop: one redraw of every lane per animation frame.
  const fps = new FpsMeter();
  let head = 0;
  let lastFrame = performance.now();
  let lastWindow = 0;
  let lastEvents = -1;
  let raf = 0;
  let unmounted = false;
  const frame = (now: number) => {
    raf = requestAnimationFrame(frame);
    const dt = (now - lastFrame) / 1000;
    lastFrame = now;
    let newest = 0;
    for (const l of lanes.values()) newest = Math.max(newest, l.buf.endTime);
    if (newest === 0 && !replay) return;
    const prevHead = head;
    // Live: advance with wall time, but close at least half the gap to the newest data each frame, so the
    // head catches up after a burst instead of staying behind for good (sample-to-screen latency); a gap of
    // at most two frames' worth is closed at once (stepping it would only show the newest data a frame later).
    const gap = newest - head;
    head = replay ? replay.playhead() : gap <= 2 * dt ? newest : Math.max(head + gap / 2, newest - MAX_LAG_S);
    // Nothing new and the window has not moved (e.g. the source stalled): keep the last frame.
    if (head === prevHead && metrics.live.pairs === lastPairs && windowS === lastWindow && events === lastEvents) {
      if (ended) cancelAnimationFrame(raf);
      return;
    }
    lastWindow = windowS;
    lastEvents = events;
    const t1 = Math.max(head, windowS);
    const t0 = t1 - windowS;
    let points = 0;
    const tDraw = performance.now();
    drawnWindow = [t0, t1];
    for (const l of lanes.values()) {
      if (l.el.hidden) continue;
      l.cols = l.buf.window(t0, t1, l.plot.plotWidth, l.cols);
      l.plot.events = inWindow(l.events, t0, t1);
      l.plot.show(l.cols.x, l.cols.lo, l.cols.hi, l.cols.length, t0, t1);
      points += l.cols.length;
    }
    const m = metrics.live;
    m.frames++;
    if (m.pairs !== lastPairs) m.dataFrames++;
    lastPairs = m.pairs;
    m.points = points;
    m.drawMs = m.drawMs * 0.9 + (performance.now() - tDraw) * 0.1;
    m.xRange = [t0, t1];
    m.fps = fps.tick(now);
    // Sample-to-screen latency of every stamped sample this frame shows for the first time.
    let shown = 0;
    while (shown < stamps.length && stamps[shown].t <= t1) shown++;
    if (shown > 0) {
      const wallNow = Date.now();
      for (let i = 0; i < shown; i++) m.latencyMs.push(wallNow - stamps[i].wall);
      if (m.latencyMs.length > 20_000) m.latencyMs.splice(0, 10_000);
      stamps.splice(0, shown);
    }
    if (m.frames % 15 === 0) {
      fpsEl.textContent = `${m.fps.toFixed(0)} fps`;
      timeEl.textContent = `t = ${si(newest, 's')} of ${si(planned, 's')}`;
      // the tools' readouts a few times a second, not every frame (each is a DOM write)
      if (cursors.on) cursors.update();
      if (m.frames % 30 === 0 && controlsEl.open) for (const l of lanes.values()) l.controls.refresh();
      if (m.frames % 30 === 15) xy?.refresh();
    }
    if (ended) cancelAnimationFrame(raf);
  };
  raf = requestAnimationFrame(frame);

  return {
    get windowS() {
      return windowS;
    },
    get pairsPerSecond() {
      return asked;
    },
    reset() {
      for (const l of lanes.values()) {
        l.buf = new MinMaxBuffer(l.buf.sampleRate, l.buf.capacity);
        l.events = [];
        l.cols = undefined;
      }
      for (const l of lanes.values()) l.next = -1;
      spans.length = 0;
      stamps = [];
      head = 0;
      lastPairs = -1;
      if (!unmounted && !ended) {
        cancelAnimationFrame(raf);
        raf = requestAnimationFrame(frame);
      }
    },
    unmount() {
      unmounted = true;
      clearTimeout(countsTimer);
      cancelAnimationFrame(raf);
      conn.close();
      ro.disconnect();
      xy?.destroy();
      for (const l of lanes.values()) l.plot.destroy();
      root.remove();
    },
  };
}

/** The events with t0 <= t <= t1 of a time-ordered list (binary search, no copy of the rest). */
function inWindow(events: PlotEvent[], t0: number, t1: number): PlotEvent[] {
  const lower = (t: number, strict: boolean) => {
    let a = 0;
    let b = events.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (strict ? events[m].t <= t : events[m].t < t) a = m + 1;
      else b = m;
    }
    return a;
  };
  return events.slice(lower(t0, false), lower(t1, true));
}
