/**
 * Measurement cursors A and B, shared by every time plot of a page (the plots draw them, plots/trace-plot.ts):
 * with the cursors on, a click on a plot places A, the next click B, the next A again. The readout gives
 * Δt, 1/Δt and, per channel, the values at A and B and their difference (ΔV, ΔI ...), read from the data
 * the plot shows (the middle of the min/max column nearest each cursor).
 */
import { h } from '../dom.ts';
import { si } from '../format.ts';

export interface Cursors {
  a: number | null;
  b: number | null;
}

export interface CursorChannel {
  name: string;
  unit: string;
  valueAt(t: number): number | null;
}

export class CursorTool {
  readonly state: Cursors = { a: null, b: null };
  on = false;
  private next: 'a' | 'b' = 'a';
  readonly el: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly button: HTMLButtonElement;

  constructor(
    private readonly channels: () => CursorChannel[],
    private readonly redraw: () => void,
  ) {
    this.button = h('button', { type: 'button', class: 'small', 'data-action': 'cursors', title: 'Measurement cursors: click a plot to place A, then B' }, 'Cursors');
    this.button.addEventListener('click', () => this.toggle());
    this.readout = h('span', { class: 'cursor-readout', 'data-stat': 'cursors' });
    this.el = h('span', { class: 'cursor-tool' }, this.button, this.readout);
  }

  toggle(on = !this.on): void {
    this.on = on;
    this.button.classList.toggle('active', on);
    if (!on) {
      this.state.a = this.state.b = null;
      this.next = 'a';
    }
    this.update();
    this.redraw();
  }

  /** A click at time t: places the next cursor when the tool is on. Returns whether it was used. */
  place(t: number): boolean {
    if (!this.on) return false;
    this.state[this.next] = t;
    this.next = this.next === 'a' ? 'b' : 'a';
    this.update();
    this.redraw();
    return true;
  }

  /** Rewrites the readout (after a cursor moved or new data arrived). */
  update(): void {
    const { a, b } = this.state;
    if (!this.on) return void (this.readout.textContent = '');
    if (a === null) return void (this.readout.textContent = 'click a plot to place cursor A');
    const parts = [`A ${si(a, 's', 5)}`];
    if (b !== null) {
      const dt = b - a;
      parts.push(`B ${si(b, 's', 5)}`, `Δt ${si(dt, 's', 4)}`, `1/Δt ${dt !== 0 ? si(1 / Math.abs(dt), 'Hz', 4) : '—'}`);
    }
    for (const ch of this.channels()) {
      const va = ch.valueAt(a);
      const vb = b === null ? null : ch.valueAt(b);
      parts.push(b === null || va === null || vb === null ? `${ch.name} ${si(va, ch.unit, 4)}` : `Δ${ch.name} ${si(vb - va, ch.unit, 4)}`);
    }
    this.readout.textContent = parts.join(' · ');
    this.readout.dataset.dt = a !== null && b !== null ? String(b - a) : '';
  }
}
