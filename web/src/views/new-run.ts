/**
 * `#/new`: start a run. The protocol kinds and their fields come from GET /api/protocols (JSON schemas with
 * titles, units, defaults and descriptions; a level's unit follows the protocol's quantity); the sources and
 * their run options from GET /api/sources; the bench limits (GET /api/bench) bound the level fields and the
 * options they cap, so a value the bench would refuse is refused at its field, and a refusal from the
 * server is shown at the field it names (`/protocol/amplitude`, `/options/compliance`). The stimulus is
 * previewed as it is edited (POST /api/protocols/check: the compiled waveform, its peak and worst-case
 * power, its shortest period); a rate giving fewer than 20 samples per stimulus period is warned about;
 * "pair with the twin" feeds the recorded stimulus to a twin circuit when the run ends (POST /api/runs `twin`).
 */
import uPlot from 'uplot';
import { api, ApiError, type JsonSchema, type ProtocolInfo, type SourceInfo, type StartRunBody } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';
import { makeField, readFields } from '../form/schema-form.ts';
import { isLevel, protocolForm, type BenchLimits } from '../form/protocol-form.ts';
import { optionsForm } from '../form/options-form.ts';
import { samplesPerPeriodNote } from '../form/samples-per-period.ts';
import { Router, type ViewInstance } from '../router.ts';

/** The run-level settings (not part of a protocol), as the API contract defines them. */
const RUN_SCHEMA: Record<'sampleRate' | 'label', JsonSchema> = {
  sampleRate: { type: 'number', minimum: 1, maximum: 2_000_000, default: 100_000 },
  label: { type: 'string', maxLength: 200, description: 'Free text shown in the runs list' },
};

/** A periodic stimulus is previewed over this many periods (800 points over many periods would alias). */
const PREVIEW_PERIODS = 5;

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
      buildOptions();
    } });
    const options = optionsForm(limits);
    const buildOptions = () => options.build(sources.find((s) => s.kind === sourceSel.value), proto.quantity());
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
    const rateWarning = samplesPerPeriodNote();
    rateField.el.append(rateWarning.el);
    /** The stimulus's shortest period from the last check of the protocol (null: none, or not checked). */
    let periodS: number | null = null;
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
    // The protocol in the quantity the source plays and records as it is (a first DAQ run in volts, not a
    // current recorded in V with a note), until the user edits the protocol; a new kind starts afresh.
    // Before the user picks a kind (none in the URL either), a source's demo protocol is the start: the kinds'
    // defaults saturate the simulated bench's neuron into a solid raster.
    let protoEdited = false;
    let demoAllowed = !query.get('kind');
    let demoShown = false;
    proto.el.addEventListener('input', (e) => (protoEdited ||= e.target !== kindSel));
    proto.el.addEventListener('change', (e) => (protoEdited ||= e.target !== kindSel));
    const suitSource = () => {
      const want = sources.find((s) => s.kind === sourceSel.value)?.protocol;
      if (!protoEdited && demoAllowed && want?.demo) {
        proto.set(want.demo);
        demoShown = true;
        schedulePreview();
        return;
      }
      // another source's demo is not this one's: back to the kind's defaults, suited below
      if (!protoEdited && demoShown) {
        proto.set({ kind: kindSel.value });
        schedulePreview();
      }
      demoShown = false;
      const props = proto.info()?.schema.properties ?? {};
      // levelScale converts levels given in A: a kind whose defaults are volts (chirp, iv-sweep ...) is left as it is
      if (protoEdited || !want || props.quantity?.default !== 'current' || proto.quantity() === want.quantity) return;
      const levels = Object.entries(props).filter(([, s]) => isLevel(s) && typeof s.default === 'number');
      proto.set({ kind: kindSel.value, quantity: want.quantity, ...Object.fromEntries(levels.map(([k, s]) => [k, (s.default as number) * want.levelScale])) });
      schedulePreview();
    };
    kindSel.addEventListener('change', () => {
      protoEdited = false;
      demoAllowed = demoShown = false;
      suitSource();
    });
    sourceSel.addEventListener('change', () => {
      suitSource();
      proposeRate();
      pickCircuit();
      buildOptions();
    });

    // Stimulus preview: the protocol compiled to its waveform by the server.
    const previewBox = h('figure', { class: 'stimulus-preview', 'data-plot': 'stimulus preview' });
    const previewNote = h('p', { class: 'hint', 'data-preview-note': '' });
    const checkRate = () => rateWarning.update(Number(rateField.input.value), periodS);
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
        const field = proto.fields().find((f) => f.name === p.invalid);
        previewNote.textContent = `No preview until ${field?.el.querySelector('label')?.textContent ?? p.invalid} is valid.`;
        return;
      }
      const values = p.value;
      try {
        const r = await api.checkProtocol({ kind: kindSel.value, ...values }, 800, { periods: PREVIEW_PERIODS });
        const pv = r.preview;
        if (gone || seq !== previewSeq || !pv) return;
        periodS = r.periodS ?? null;
        checkRate();
        const unit = r.summary.unit;
        const shownS = pv.dt * pv.values.length;
        const cut = shownS < r.summary.durationS * (1 - 1e-9);
        previewNote.textContent = `${cut ? `First ${PREVIEW_PERIODS} periods (${si(shownS, 's')}) shown. ` : ''}${si(r.summary.durationS, 's')} from ${si(r.summary.min, unit)} to ${si(r.summary.max, unit)}${r.limits ? `; peak ${si(r.limits.peak, unit)}, worst-case power ${si(r.limits.worstPowerW, 'W')}` : ''}: within the bench limits.`;
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
        periodS = null;
        checkRate();
        previewNote.className = 'hint error';
        previewNote.textContent = e instanceof Error ? e.message : String(e);
        if (e instanceof ApiError) showRefusal(e);
      }
    }

    /** A refusal at the field it names: a run setting, a protocol parameter or a source option. */
    const showRefusal = (e: ApiError): boolean => {
      const run = e.field ? runFields.find((f) => f.pointer === e.field) : undefined;
      if (run) run.showError(e.message);
      return Boolean(run) || proto.showRefusal(e, '/protocol') || options.showRefusal(e.message, e.field);
    };

    const formError = h('div', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-action': 'start' }, 'Start run');
    const form = h(
      'form',
      { class: 'run-form', novalidate: true },
      h('fieldset', { class: 'protocol-set' }, h('legend', {}, 'Protocol'), proto.el),
      h('fieldset', { class: 'preview-set' }, h('legend', {}, 'Stimulus'), previewBox, previewNote),
      h('fieldset', {}, h('legend', {}, 'Run'), sourceField, options.el, ...runFields.map((f) => f.el), pairField),
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
      const optionVals = options.read();
      if (!protoVals || !runVals || !optionVals) {
        if (!optionVals) (options.el as HTMLDetailsElement).open = true;
        formError.textContent = 'Please correct the highlighted fields.';
        form.querySelector<HTMLElement>('.invalid input, .invalid select')?.focus();
        return;
      }
      const body: StartRunBody = { protocol: { kind: kindSel.value, ...protoVals }, sampleRate: runVals.sampleRate as number };
      if (sourceSel.value) body.source = sourceSel.value;
      if (Object.keys(optionVals).length) body.options = optionVals;
      if (typeof runVals.label === 'string' && runVals.label.trim()) body.label = runVals.label.trim();
      if (pairBox.checked && circuitSel.value) body.twin = { circuit: circuitSel.value };
      submit.disabled = true;
      submit.textContent = 'Starting…';
      try {
        const run = await api.startRun(body);
        options.keep();
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
    suitSource();
    buildOptions();
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
