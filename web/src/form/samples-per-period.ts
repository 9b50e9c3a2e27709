/**
 * The warning under a sample-rate field (New run, Sweeps) when the rate gives fewer than ~20 samples per
 * stimulus period: the square's edges and the sine's peaks are not resolved, spikes are found late. The
 * period is the server's (`periodS` of POST /api/protocols/check: server/protocols shortestPeriodS, a
 * sweep's shortest over its points), the one the run page's channel notes use too (server/store/channel-meta.ts).
 */
import { h } from '../dom.ts';
import { si } from '../format.ts';

export const MIN_SAMPLES_PER_PERIOD = 20;

/** The warning for `rate` S/s against a stimulus period, or null when the rate resolves it (or there is no period). */
export function samplesPerPeriodWarning(rate: number, periodS: number | null | undefined): string | null {
  if (!periodS || !(rate > 0)) return null;
  const perPeriod = rate * periodS;
  if (perPeriod >= MIN_SAMPLES_PER_PERIOD) return null;
  return (
    `⚠ ${si(rate, 'S/s')} gives ${Number(perPeriod.toPrecision(2))} samples per ${si(1 / periodS, 'Hz')} stimulus period (fewer than ${MIN_SAMPLES_PER_PERIOD}): ` +
    `the waveform will be drawn and analysed coarsely; use at least ${si(MIN_SAMPLES_PER_PERIOD / periodS, 'S/s')} or a lower frequency.`
  );
}

/** The warning's element (hidden while there is nothing to say) and its update. */
export function samplesPerPeriodNote(): { el: HTMLElement; update(rate: number, periodS: number | null | undefined): void } {
  const el = h('div', { class: 'field-warning', role: 'status', 'data-warning': 'samples-per-period', hidden: true });
  return {
    el,
    update(rate, periodS) {
      const text = samplesPerPeriodWarning(rate, periodS);
      el.hidden = text === null;
      el.textContent = text ?? '';
    },
  };
}
