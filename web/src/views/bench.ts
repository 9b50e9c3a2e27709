/**
 * Bench page (#/bench): the instruments (configured, found by USB VID/PID, virtual) with their ports,
 * channel roles and live connection state (identity, outputs, the run using them, what they can do), with
 * Connect/Disconnect buttons (GET/POST /api/bench/instruments...); the run sources and whether they are
 * available now; the limits every protocol is checked against; and a protocol checker that states a
 * protocol's duration and peaks against those limits and previews its stimulus.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, type InstrumentState } from '../api.ts';
import { h } from '../dom.ts';
import type { ViewInstance } from '../router.ts';

const fmt = (x: number | undefined) => (x === undefined ? '–' : String(+x.toPrecision(4)));

/** What the instrument can do, in one line. */
function capabilityText(i: InstrumentState): string {
  const c = i.capabilities;
  if (!c) return '–';
  if (i.kind === 'smu') return `±${fmt(Number(c.maxVoltage))} V, ±${fmt(Number(c.maxCurrent))} A; ${c.maxPoints} points, ≥ ${fmt(Number(c.minDwellS))} s a point`;
  if (i.kind === 'daq') return `${c.analogInputs} inputs, ${c.adcBits}-bit ADC, ${c.stimulusBits}-bit stimulus, table ${c.maxWaveform}`;
  return Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ');
}

export function benchPage(root: HTMLElement): ViewInstance {
  let plot: uPlot | undefined;
  let timer: number | undefined;
  let alive = true;
  const instruments = h('tbody');
  const instrumentMessage = h('div', { id: 'bench-instrument-message', class: 'notice', hidden: true });
  /** Instruments with a connect or disconnect under way from this page. */
  const pending = new Set<string>();

  const showInstruments = (list: InstrumentState[]) => {
    instruments.replaceChildren(
      ...list.map((i) => {
        const simulated = i.kind === 'simulated';
        const connected = i.state === 'connected';
        const action = connected ? 'disconnect' : 'connect';
        const busy = pending.has(i.id) || i.state === 'connecting' || i.state === 'disconnecting';
        const button = simulated
          ? h('span', { class: 'hint' }, 'built in')
          : h(
              'button',
              {
                type: 'button',
                class: connected ? '' : 'primary',
                'data-action': action,
                'data-id': i.id,
                disabled: busy || i.inUseBy !== undefined,
                title: i.inUseBy !== undefined ? `in use by run ${i.inUseBy}` : '',
                onclick: (() => void act(i.id, action)) as EventListener,
              },
              busy ? `${i.state === 'disconnecting' || action === 'disconnect' ? 'Disconnecting' : 'Connecting'}…` : connected ? 'Disconnect' : 'Connect',
            );
        return h(
          'tr',
          { 'data-instrument': i.id, 'data-state': i.state },
          h('td', {}, i.id),
          h('td', {}, i.kind, i.origin !== 'configured' ? h('div', { class: 'hint' }, i.origin) : null),
          h('td', {}, i.model),
          h('td', { 'data-field': 'port' }, i.port ?? '–'),
          h('td', {}, (i.channels ?? []).map((c) => `${c.name} (${c.role}${c.unit ? `, ${c.unit}` : ''})`).join(', ')),
          h('td', { 'data-field': 'state' }, i.state, i.error ? h('div', { class: 'error-text', 'data-field': 'error' }, i.error) : null),
          h('td', { 'data-field': 'identity' }, i.identity ?? '–'),
          h('td', { 'data-field': 'outputs' }, i.inUseBy !== undefined ? `${i.outputs ?? 'on'} (run ${i.inUseBy})` : (i.outputs ?? '–')),
          h('td', { 'data-field': 'capabilities' }, capabilityText(i)),
          h('td', {}, button),
        );
      }),
    );
  };
  const refresh = async () => {
    try {
      const list = await api.instruments();
      if (alive) showInstruments(list);
    } catch {
      /* the next poll tries again */
    }
  };
  const act = async (id: string, action: 'connect' | 'disconnect') => {
    pending.add(id);
    void refresh();
    instrumentMessage.hidden = true;
    try {
      const instrument = await api.instrumentAction(id, action);
      instrumentMessage.hidden = false;
      instrumentMessage.className = 'notice';
      instrumentMessage.textContent =
        action === 'connect' ? `${id} connected: ${instrument.identity ?? ''}` : `${id} disconnected${instrument.error ? `: ${instrument.error}` : ', outputs off'}`;
    } catch (e) {
      instrumentMessage.hidden = false;
      instrumentMessage.className = 'notice error-box';
      instrumentMessage.textContent = e instanceof Error ? e.message : String(e);
    } finally {
      pending.delete(id);
      await refresh();
    }
  };
  const sources = h('tbody');
  const limits = h('dl', { class: 'limits' });
  const doc = h('textarea', { id: 'bench-protocol', rows: 5, cols: 70, spellcheck: 'false' }) as HTMLTextAreaElement;
  doc.value = JSON.stringify({ kind: 'iv-sweep', peak: 2, periodS: 1, cycles: 2 });
  const result = h('div', { id: 'bench-check', class: 'notice', hidden: true });
  const chart = h('div', { class: 'bench-preview' });

  const check = async () => {
    let protocol: unknown;
    try {
      protocol = JSON.parse(doc.value);
    } catch (e) {
      result.hidden = false;
      result.className = 'notice error-box';
      result.textContent = `not valid JSON: ${(e as Error).message}`;
      return;
    }
    try {
      const r = await api.checkProtocol(protocol, 1000);
      const s = r.summary;
      result.hidden = false;
      result.className = 'notice';
      result.textContent = `${s.kind ?? 'sweep'}: ${fmt(s.durationS)} s, ${fmt(s.min)}..${fmt(s.max)} ${s.unit}${r.limits ? `, worst-case power ${fmt(r.limits.worstPowerW)} W` : ''}: within the limits`;
      plot?.destroy();
      plot = undefined;
      if (r.preview) {
        const xs = r.preview.values.map((_, i) => i * r.preview!.dt);
        plot = new uPlot(
          {
            width: Math.min(900, root.clientWidth || 900),
            height: 220,
            scales: { x: { time: false } },
            axes: [{ label: 't, s' }, { label: s.unit }],
            series: [{ label: 't' }, { label: 'stimulus', stroke: '#2b6cb0' }],
          },
          [xs, r.preview.values],
          chart,
        );
      }
    } catch (e) {
      result.hidden = false;
      result.className = 'notice error-box';
      result.textContent = e instanceof Error ? e.message : String(e);
    }
  };

  root.append(
    h('h1', {}, 'Bench'),
    h('h2', {}, 'Instruments'),
    h(
      'table',
      { class: 'runs bench-instruments' },
      h('thead', {}, h('tr', {}, ...['id', 'kind', 'model', 'port', 'channels', 'state', 'identity', 'outputs', 'can do', ''].map((t) => h('th', {}, t)))),
      instruments,
    ),
    instrumentMessage,
    h('h2', {}, 'Run sources'),
    h('table', { class: 'runs bench-sources' }, h('thead', {}, h('tr', {}, ...['kind', 'source', 'available'].map((t) => h('th', {}, t)))), sources),
    h('h2', {}, 'Limits'),
    limits,
    h('h2', {}, 'Check a protocol against the limits'),
    h(
      'form',
      { class: 'sweep-form', onsubmit: ((e: Event) => e.preventDefault()) as EventListener },
      doc,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', 'data-action': 'check-protocol', onclick: (() => void check()) as EventListener }, 'Check and preview')),
      result,
    ),
    chart,
  );

  // Live state: the list is polled while the page is open (a run taking an instrument, a cable pulled).
  void refresh();
  timer = window.setInterval(() => void refresh(), 1000);
  void api.bench().then((bench) => {
    const l = bench.limits;
    const items: [string, string][] = [
      ['maxVoltage', `${fmt(l.maxVoltage)} V`],
      ['maxCurrent', `${fmt(l.maxCurrent)} A`],
      ['maxPower', `${fmt(l.maxPower)} W`],
      ['compliance', `${fmt(l.compliance.current)} A when sourcing voltage, ${fmt(l.compliance.voltage)} V when sourcing current`],
      ...(l.maxDurationS !== undefined ? [['maxDurationS', `${fmt(l.maxDurationS)} s`] as [string, string]] : []),
    ];
    limits.replaceChildren(...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-limit': k }, v)]));
  });
  void api.sources().then((r) =>
    sources.replaceChildren(
      ...r.sources.map((s) =>
        h('tr', { 'data-source': s.kind }, h('td', {}, s.kind), h('td', {}, s.title), h('td', {}, s.available ? 'yes' : `no${s.detail ? `: ${s.detail}` : ''}`)),
      ),
    ),
  );

  return {
    unmount() {
      alive = false;
      if (timer !== undefined) window.clearInterval(timer);
      plot?.destroy();
    },
  };
}
