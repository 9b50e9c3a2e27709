/**
 * `#/new`: start a run. The protocol kinds and their fields come from GET /api/protocols (JSON schemas with
 * defaults and descriptions), labelled with human titles and units (schema-form keyTitle; a level's unit
 * follows the protocol's quantity); the sources from GET /api/sources; the bench limits (GET /api/bench)
 * bound the level fields, so a value the bench would refuse is refused at its field, and a refusal from the
 * server (LIMIT_EXCEEDED names only the protocol) is shown at the level fields that cause it. The stimulus
 * is previewed as it is edited (POST /api/protocols/check: the compiled waveform, its peak and worst-case
 * power); a rate giving fewer than 20 samples per stimulus period is warned about; "pair with the twin"
 * feeds the recorded stimulus to a twin circuit when the run ends (POST /api/runs `twin`).
 */
import uPlot from 'uplot';
import { api, ApiError, type JsonSchema, type ProtocolInfo, type SourceInfo, type StartRunBody } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { keyTitle, makeField, readFields } from '../form/schema-form.ts';
import { protocolForm, type BenchLimits } from '../form/protocol-form.ts';
import { Router, type ViewInstance } from '../router.ts';

/** The run-level settings (not part of a protocol), as the API contract defines them. */
const RUN_SCHEMA: Record<'sampleRate' | 'label', JsonSchema> = {
  sampleRate: { type: 'number', minimum: 1, maximum: 2_000_000, default: 100_000 },
  label: { type: 'string', maxLength: 200, description: 'Free text shown in the runs list' },
};

/** Fewer samples than this per stimulus period draw the waveform too coarsely to see (and to detect spikes on). */
export const MIN_SAMPLES_PER_PERIOD = 20;

/** The stimulus period (s) that must be resolved: the frequency's period, a chirp's highest, a pulse or pairing period. */
export function stimulusPeriodS(p: Record<string, unknown>): number | null {
  const n = (k: string) => (typeof p[k] === 'number' && (p[k] as number) > 0 ? (p[k] as number) : null);
  const f = n('frequencyHz') ?? (p.kind === 'chirp' ? Math.max(n('startHz') ?? 0, n('stopHz') ?? 0) || null : null);
  if (f) return 1 / f;
  return n('periodS') ?? n('pairPeriodS');
}

export function newRun(root: HTMLElement, _params: unknown, query: URLSearchParams): ViewInstance {
  const page = h('div', { class: 'page new-run-page' }, h('h2', {}, 'New run'), h('p', { class: 'loading' }, 'Loading protocols…'));
  root.append(page);
  let gone = false;
  let preview: uPlot | undefined;
  let previewTimer: ReturnType<typeof setTimeout> | undefined;

  async function load(): Promise<void> {
    try {
      const [protocols, sources, bench, circuits] = await Promise.all([
        api.protocols(),
        api.sources(),
        api.bench().catch(() => ({ limits: {} as BenchLimits })),
        api.twinCircuits().catch(() => []),
      ]);
      if (!gone) build(protocols, sources.sources, sources.default, bench.limits, circuits);
    } catch (e) {
      if (gone) return;
      page.replaceChildren(
        h('h2', {}, 'New run'),
        h('div', { class: 'error-box', role: 'alert' }, `Could not load the protocols: ${e instanceof Error ? e.message : String(e)} `, h('button', { class: 'small', onclick: () => void load() }, 'Retry')),
      );
    }
  }

  function build(protocols: ProtocolInfo[], sources: SourceInfo[], defaultSource: string, limits: BenchLimits, circuits: { name: string; description: string }[]): void {
    const proto = protocolForm(protocols, limits, { id: 'protocol', kind: query.get('kind') ?? undefined, onChange: () => {
      schedulePreview();
      pickCircuit();
    } });
    const kindSel = proto.kindSelect;

    const sourceSel = h('select', { id: 'f-source', name: 'source', 'data-pointer': '/source' });
    for (const s of sources) {
      sourceSel.append(h('option', { value: s.kind, disabled: !s.available, title: s.detail ?? null }, `${s.title || s.kind}${s.available ? '' : ' (unavailable)'}`));
    }
    sourceSel.value = sources.find((s) => s.kind === defaultSource && s.available)?.kind ?? sources.find((s) => s.available)?.kind ?? '';
    const sourceDetail = h('div', { class: 'hint' });
    const showSource = () => (sourceDetail.textContent = sources.find((s) => s.kind === sourceSel.value)?.detail ?? '');
    sourceSel.addEventListener('change', showSource);
    const sourceErr = h('div', { class: 'field-error', 'data-error-for': '/source' });
    const sourceField = h('div', { class: 'field', 'data-field': '/source' }, h('label', { for: 'f-source' }, 'Source'), sourceSel, sourceDetail, sourceErr);

    const rateField = makeField('/sampleRate', 'sampleRate', RUN_SCHEMA.sampleRate, false, 'Sample rate (S/s per channel)', { hint: 'Samples per second per channel (≤ 2 MS/s)' });
    const labelField = makeField('/label', 'label', RUN_SCHEMA.label, true, 'Label');
    const runFields = [rateField, labelField];
    const rateWarning = h('div', { class: 'field-warning', role: 'status', 'data-warning': 'samples-per-period', hidden: true });
    rateField.el.append(rateWarning);
    // Each source proposes the rate its hardware sustains (a DAQ board far less than the simulated bench).
    const proposeRate = () => {
      rateField.input.value = String(sources.find((s) => s.kind === sourceSel.value)?.defaultSampleRate ?? RUN_SCHEMA.sampleRate.default);
      checkRate();
    };

    // Pair with the twin: the circuit of the device the source measures (its recorded stimulus drives it),
    // the plastic synapse for an stdp run, else the LIF.
    const pairBox = h('input', { id: 'f-pair', type: 'checkbox', name: 'pair' });
    const circuitSel = h('select', { id: 'f-twin-circuit', name: 'circuit', 'data-pointer': '/twin/circuit' }, ...circuits.map((c) => h('option', { value: c.name, title: c.description }, c.name)));
    const circuitErr = h('div', { class: 'field-error', 'data-error-for': '/twin/circuit' });
    let circuitPicked = false;
    circuitSel.addEventListener('change', () => (circuitPicked = true));
    const pickCircuit = () => {
      if (circuitPicked) return;
      const own = sources.find((s) => s.kind === sourceSel.value)?.twinCircuit;
      const want = kindSel.value === 'stdp' ? 'stdp-synapse' : (own ?? 'lif');
      if (circuits.some((c) => c.name === want)) circuitSel.value = want;
    };
    const syncPair = () => (circuitSel.disabled = !pairBox.checked);
    pairBox.addEventListener('change', syncPair);
    syncPair();
    const pairField = h(
      'div',
      { class: 'field', 'data-field': '/twin' },
      h('label', { for: 'f-pair' }, pairBox, ' Pair with the twin'),
      circuitSel,
      h('div', { class: 'hint' }, 'When the run ends, its recorded stimulus is fed to this twin circuit; Compare shows both.'),
      circuitErr,
    );
    sourceSel.addEventListener('change', () => {
      proposeRate();
      pickCircuit();
    });

    // Stimulus preview: the protocol compiled to its waveform by the server.
    const previewBox = h('figure', { class: 'stimulus-preview', 'data-plot': 'stimulus preview' });
    const previewNote = h('p', { class: 'hint', 'data-preview-note': '' });
    function checkRate(): void {
      const rate = Number(rateField.input.value);
      const p = proto.peek();
      const period = stimulusPeriodS({ kind: kindSel.value, ...('value' in p ? p.value : {}) });
      const perPeriod = period && rate > 0 ? rate * period : Infinity;
      rateWarning.hidden = perPeriod >= MIN_SAMPLES_PER_PERIOD;
      if (!rateWarning.hidden) {
        rateWarning.textContent =
          `⚠ ${si(rate, 'S/s')} gives ${Number(perPeriod.toPrecision(2))} samples per ${si(1 / period!, 'Hz')} stimulus period (fewer than ${MIN_SAMPLES_PER_PERIOD}): ` +
          `the waveform will be drawn and analysed coarsely; use at least ${si(MIN_SAMPLES_PER_PERIOD / period!, 'S/s')} or a lower frequency.`;
      }
    }
    function schedulePreview(): void {
      checkRate();
      if (previewTimer) clearTimeout(previewTimer);
      previewTimer = setTimeout(() => void drawPreview(), 250);
    }
    let previewSeq = 0;
    async function drawPreview(): Promise<void> {
      const seq = ++previewSeq;
      const p = proto.peek();
      if ('invalid' in p) {
        previewNote.textContent = `No preview until ${keyTitle(p.invalid)} is valid.`;
        return;
      }
      const values = p.value;
      // Many periods in 800 points would alias: a periodic stimulus is previewed over its first 5 periods.
      const period = stimulusPeriodS({ kind: kindSel.value, ...values });
      const duration = typeof values.durationS === 'number' ? values.durationS : Infinity;
      const previewS = period && duration > 10 * period ? 5 * period : undefined;
      try {
        const r = await api.checkProtocol({ kind: kindSel.value, ...values }, 800, previewS);
        const pv = r.preview;
        if (gone || seq !== previewSeq || !pv) return;
        const unit = r.summary.unit;
        previewNote.textContent = `${previewS ? `First 5 periods (${si(previewS, 's')}) shown. ` : ''}${si(r.summary.durationS, 's')} from ${si(r.summary.min, unit)} to ${si(r.summary.max, unit)}${r.limits ? `; peak ${si(r.limits.peak, unit)}, worst-case power ${si(r.limits.worstPowerW, 'W')}` : ''}: within the bench limits.`;
        previewNote.className = 'hint';
        const t = pv.values.map((_, i) => i * pv.dt);
        preview?.destroy();
        previewBox.replaceChildren();
        preview = new uPlot(
          {
            title: `Stimulus preview · ${protocols.find((p) => p.kind === kindSel.value)?.title ?? kindSel.value}`,
            width: Math.max(320, Math.min(560, previewBox.clientWidth || 520)),
            height: 200,
            scales: { x: { time: false } },
            axes: [{ label: 'time (s)' }, { label: `stimulus (${unit})`, size: 70, values: (_u, v) => v.map((x) => si(x, unit, 3)) }],
            series: [{ label: 't' }, { label: `stimulus (${unit})`, stroke: '#2b6cb0', width: 1.5, value: (_u, v) => si(v, unit, 4) }],
            legend: { show: false },
          },
          [t, pv.values],
          previewBox,
        );
        previewBox.dataset.points = String(pv.values.length);
      } catch (e) {
        if (gone || seq !== previewSeq) return;
        previewNote.className = 'hint error';
        previewNote.textContent = e instanceof Error ? e.message : String(e);
        if (e instanceof ApiError) showRefusal(e);
      }
    }

    /** A refusal at the field it names; a limit refusal (named /protocol) at the level fields that cause it. */
    const showRefusal = (e: ApiError): boolean => {
      const run = e.field ? runFields.find((f) => f.pointer === e.field) : undefined;
      if (run) run.showError(e.message);
      return Boolean(run) || proto.showRefusal(e, '/protocol');
    };

    const formError = h('div', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-action': 'start' }, 'Start run');
    const form = h(
      'form',
      { class: 'run-form', novalidate: true },
      h('fieldset', { class: 'protocol-set' }, h('legend', {}, 'Protocol'), proto.el),
      h('fieldset', { class: 'preview-set' }, h('legend', {}, 'Stimulus'), previewBox, previewNote),
      h('fieldset', {}, h('legend', {}, 'Run'), sourceField, ...runFields.map((f) => f.el), pairField),
      formError,
      h('div', { class: 'actions' }, submit, h('a', { href: '#/', class: 'button ghost' }, 'Cancel')),
    );

    // Once every field is valid again, the form-level "please correct" message goes away.
    form.addEventListener('input', (ev) => {
      if (!form.querySelector('.invalid')) formError.textContent = '';
      if (proto.el.contains(ev.target as Node)) schedulePreview();
      else checkRate();
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      formError.textContent = '';
      sourceErr.textContent = '';
      circuitErr.textContent = '';
      const protoVals = proto.read();
      const runVals = readFields(runFields);
      if (!protoVals || !runVals) {
        formError.textContent = 'Please correct the highlighted fields.';
        form.querySelector<HTMLElement>('.invalid input, .invalid select')?.focus();
        return;
      }
      const body: StartRunBody = { protocol: { kind: kindSel.value, ...protoVals }, sampleRate: runVals.sampleRate as number };
      if (sourceSel.value) body.source = sourceSel.value;
      if (typeof runVals.label === 'string' && runVals.label.trim()) body.label = runVals.label.trim();
      if (pairBox.checked && circuitSel.value) body.twin = { circuit: circuitSel.value };
      submit.disabled = true;
      submit.textContent = 'Starting…';
      try {
        const run = await api.startRun(body);
        Router.go(`/runs/${run.id}`);
      } catch (e) {
        submit.disabled = false;
        submit.textContent = 'Start run';
        if (!(e instanceof ApiError)) {
          formError.textContent = String(e);
          return;
        }
        if (showRefusal(e)) {
          form.querySelector<HTMLElement>('.invalid input')?.focus();
          formError.textContent = 'The server refused the run; see the highlighted field.';
        } else if (e.field === '/source') {
          sourceErr.textContent = e.message;
        } else if (e.field?.startsWith('/twin')) {
          circuitErr.textContent = e.message;
        } else {
          formError.textContent = e.isNetwork ? e.message : `The server refused the run: ${e.message}`;
        }
      }
    });

    page.replaceChildren(h('h2', {}, 'New run'), form);
    schedulePreview();
    showSource();
    proposeRate();
    pickCircuit();
  }

  void load();
  return {
    unmount() {
      gone = true;
      if (previewTimer) clearTimeout(previewTimer);
      preview?.destroy();
    },
  };
}
