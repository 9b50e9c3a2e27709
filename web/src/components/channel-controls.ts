/**
 * One row of per-channel plot controls: show/hide the channel's plot, y zoom in/out around the axis centre,
 * a fixed y range (min, max) or automatic, and a logarithmic y axis — offered only where it fits (every value
 * in view positive).
 */
import { h } from '../dom.ts';
import type { TracePlot } from '../plots/trace-plot.ts';

export interface ChannelControlTarget {
  /** What the row is called: the channel's label. */
  label: string;
  /** The plot element to show or hide. */
  el: HTMLElement;
  plot: TracePlot;
  /** Key for tests and CSS, e.g. the channel index. */
  key: string;
}

export function channelControls(t: ChannelControlTarget, onVisibility: () => void): { el: HTMLElement; refresh(): void } {
  const visible = h('input', { type: 'checkbox', checked: true, 'aria-label': `Show ${t.label}`, 'data-control': 'visible' });
  const min = h('input', { type: 'text', class: 'narrow-num', placeholder: 'auto', 'aria-label': `${t.label} y min`, 'data-control': 'ymin' });
  const max = h('input', { type: 'text', class: 'narrow-num', placeholder: 'auto', 'aria-label': `${t.label} y max`, 'data-control': 'ymax' });
  const log = h('input', { type: 'checkbox', 'aria-label': `${t.label} log y`, 'data-control': 'log' });
  const note = h('span', { class: 'hint' });
  const show = () => {
    const [a, b] = t.plot.yScaleRange;
    const fixed = t.plot.yMode.range !== null;
    min.value = fixed ? String(Number(a.toPrecision(4))) : '';
    max.value = fixed ? String(Number(b.toPrecision(4))) : '';
  };
  const zoom = (f: number) => {
    const [a, b] = t.plot.yScaleRange;
    if (t.plot.yMode.log) {
      const c = Math.sqrt(a * b);
      const r = Math.pow(b / a, f / 2);
      t.plot.setY({ range: [c / r, c * r] });
    } else {
      const c = (a + b) / 2;
      const half = ((b - a) * f) / 2;
      t.plot.setY({ range: [c - half, c + half] });
    }
    show();
  };
  const apply = () => {
    const a = Number(min.value);
    const b = Number(max.value);
    const bad = min.value.trim() === '' || max.value.trim() === '' || !Number.isFinite(a) || !Number.isFinite(b) || a >= b || (t.plot.yMode.log && a <= 0);
    if (min.value.trim() === '' && max.value.trim() === '') {
      note.textContent = '';
      t.plot.setY({ range: null });
    } else if (bad) {
      note.textContent = t.plot.yMode.log ? 'need 0 < min < max' : 'need min < max';
    } else {
      note.textContent = '';
      t.plot.setY({ range: [a, b] });
    }
  };
  min.addEventListener('change', apply);
  max.addEventListener('change', apply);
  visible.addEventListener('change', () => {
    t.el.hidden = !visible.checked;
    onVisibility();
  });
  log.addEventListener('change', () => {
    t.plot.setY({ log: log.checked, range: null });
    show();
  });
  const btn = (label: string, title: string, action: string, fn: () => void) => h('button', { type: 'button', class: 'small', title, 'data-action': action, onclick: fn }, label);
  const el = h(
    'div',
    { class: 'channel-controls', 'data-channel-controls': t.key },
    h('label', {}, visible, ' ', t.label),
    btn('y+', 'Zoom y in', 'y-in', () => zoom(0.5)),
    btn('y−', 'Zoom y out', 'y-out', () => zoom(2)),
    min,
    '…',
    max,
    btn('auto', 'Fit y to the data', 'y-auto', () => {
      t.plot.setY({ range: null });
      show();
    }),
    h('label', { title: 'Logarithmic y axis (values above zero only)' }, log, ' log'),
    note,
  );
  return {
    el,
    /** After new data: log y is offered only when every value in view is above zero. */
    refresh() {
      const ext = t.plot.dataExtent();
      const fits = t.plot.yMode.log || (ext !== null && ext[0] > 0);
      if (log.disabled === !fits) return;
      log.disabled = !fits;
      log.parentElement!.title = fits ? 'Logarithmic y axis' : 'Log y needs every value in view above zero';
    },
  };
}
