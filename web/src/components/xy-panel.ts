/**
 * The X–Y view of a stored run: any channel against any other over the visible window (default the
 * stimulus on x and the first response on y: an I–V loop, stimulus vs response), coloured by time or by
 * stimulus cycle. Both channels are read as envelopes of the same columns (raw samples when the window holds
 * at most MAX_POINTS; otherwise each point is the middle of a column's min and max, and the panel says so).
 */
import { api, type ChannelInfo, type RunDetail } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { XYPlot } from '../plots/xy-plot.ts';
import { shownFactor, shownUnit } from '../views/describe.ts';

const MAX_POINTS = 4000;

/** The stimulus period (s) of protocols that repeat: a square's or sine's 1/f, a pulse train's or I–V sweep's period. */
export function stimulusPeriodS(p: RunDetail['protocol']): number | null {
  if (typeof p.frequencyHz === 'number' && p.frequencyHz > 0) return 1 / p.frequencyHz;
  if (typeof p.periodS === 'number' && p.periodS > 0) return p.periodS;
  return null;
}

export function xyPanel(run: RunDetail, channels: ChannelInfo[], window: () => [number, number]) {
  const period = stimulusPeriodS(run.protocol);
  const pick = (label: string, control: string, def: ChannelInfo | undefined) => {
    const s = h('select', { class: 'compact', 'aria-label': label, 'data-control': control });
    for (const c of channels) s.append(h('option', { value: String(c.index) }, c.label || c.name));
    if (def) s.value = String(def.index);
    return s;
  };
  const stim = channels.find((c) => c.role === 'stimulus');
  const resp = channels.find((c) => c.role === 'response');
  const xSel = pick('X channel', 'xy-x', stim ?? channels[0]);
  const ySel = pick('Y channel', 'xy-y', resp ?? channels[1] ?? channels[0]);
  const colour = h('select', { class: 'compact', 'aria-label': 'Colour by', 'data-control': 'xy-colour' }, h('option', { value: 'time' }, 'time'), period ? h('option', { value: 'cycle' }, 'cycle') : null);
  const note = h('span', { class: 'hint', 'data-stat': 'xy-note' });
  const body = h('div', { class: 'xy-body' });
  const el = h('section', { class: 'xy-panel', hidden: true }, h('div', { class: 'toolbar' }, h('strong', {}, 'X–Y'), 'x', xSel, 'y', ySel, 'colour by', colour, note), body);
  let plot: XYPlot | null = null;
  let ac: AbortController | null = null;
  const toggle = h('button', { type: 'button', class: 'small', 'data-action': 'xy', title: 'Plot one channel against another (I–V loop, stimulus vs response)' }, 'X–Y');
  toggle.addEventListener('click', () => {
    el.hidden = !el.hidden;
    toggle.classList.toggle('active', !el.hidden);
    if (!el.hidden) void refresh();
  });
  for (const s of [xSel, ySel, colour]) s.addEventListener('change', () => void refresh());

  async function refresh(): Promise<void> {
    if (el.hidden) return;
    ac?.abort();
    const mine = (ac = new AbortController());
    const cx = channels.find((c) => String(c.index) === xSel.value)!;
    const cy = channels.find((c) => String(c.index) === ySel.value)!;
    const [w0, w1] = window();
    // Both channels over the same sample range on the slower clock, folded into the same columns.
    const rate = Math.min(cx.sampleRate, cy.sampleRate);
    const read = (c: ChannelInfo) => {
      const r = c.sampleRate / rate;
      const start = Math.max(0, Math.floor(w0 * rate));
      const end = Math.min(Math.floor(c.sampleCount / r), Math.ceil(w1 * rate));
      const pixels = Math.max(1, Math.min(MAX_POINTS, end - start));
      return end > start ? api.envelope(run.id, c.index, Math.floor(start * r), Math.floor(end * r), pixels, mine.signal) : Promise.resolve(null);
    };
    try {
      const [ex, ey] = await Promise.all([read(cx), read(cy)]);
      if (mine.signal.aborted || !ex || !ey) return;
      const n = Math.min(ex.min.length, ey.min.length);
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      const c = new Float64Array(n);
      const mid = (lo: number | null, hi: number | null) => (lo === null || hi === null ? NaN : (lo + hi) / 2);
      for (let k = 0; k < n; k++) {
        x[k] = mid(ex.min[k], ex.max[k]) * shownFactor(cx);
        y[k] = mid(ey.min[k], ey.max[k]) * shownFactor(cy);
        const t = (ex.start + (k + 0.5) * ex.samplesPerPixel) / cx.sampleRate;
        c[k] = colour.value === 'cycle' && period ? Math.floor(t / period) : t;
      }
      plot ??= new XYPlot(body, Math.min(760, Math.max(420, el.clientWidth - 20)), 420);
      plot.show({ x, y, c, length: n, xLabel: cx.label || cx.name, xUnit: shownUnit(cx), yLabel: cy.label || cy.name, yUnit: shownUnit(cy), cLabel: colour.value === 'cycle' ? 'cycle' : 'time (s)' });
      note.textContent = `${n.toLocaleString()} points over ${si(w0, 's', 4)} – ${si(w1, 's', 4)}${ex.samplesPerPixel > 1 ? ` (each the middle of ${ex.samplesPerPixel} samples: zoom in for raw samples)` : ' (raw samples)'}`;
    } catch (e) {
      if (!mine.signal.aborted) note.textContent = `Could not load the X–Y data: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  return { el, toggle, refresh: () => void refresh(), destroy: () => (ac?.abort(), plot?.destroy()) };
}
