/**
 * Pause/resume and progress for a running run (issue 8): a Pause/Resume button and "42 % · 12.3 s left"
 * from GET /api/runs/:id/progress, polled 4 times a second until the run is done or the element leaves
 * the page.
 */
import { api, type RunProgress } from '../api.ts';
import { h } from '../dom.ts';

export function runControls(runId: number): HTMLElement {
  const text = h('span', { class: 'run-progress', 'data-progress': '' }, '');
  const button = h('button', { type: 'button', class: 'small', 'data-action': 'pause' }, 'Pause');
  const el = h('span', { class: 'run-controls' }, text, ' ', button);
  let state = 'running';
  let seen = false;

  const show = (p: RunProgress) => {
    state = p.state;
    el.dataset.state = p.state;
    text.textContent = `${p.state === 'paused' ? 'paused · ' : ''}${Math.round(p.fraction * 100)} % · ${p.remainingS.toFixed(1)} s left`;
    button.textContent = p.state === 'paused' ? 'Resume' : 'Pause';
    button.dataset.action = p.state === 'paused' ? 'resume' : 'pause';
    button.disabled = p.state !== 'paused' && p.state !== 'running';
  };
  button.addEventListener('click', () => {
    button.disabled = true;
    void api.runProgress(runId, state === 'paused' ? 'resume' : 'pause')
      .then(show)
      .catch((e: Error) => {
        text.textContent = e.message;
        button.disabled = false;
      });
  });
  const timer = setInterval(() => {
    if (el.isConnected) seen = true;
    else if (seen) return clearInterval(timer);
    void api.runProgress(runId)
      .then((p) => {
        show(p);
        if (p.state === 'done') clearInterval(timer);
      })
      .catch(() => undefined);
  }, 250);
  return el;
}
