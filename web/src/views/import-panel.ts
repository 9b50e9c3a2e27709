/**
 * The runs list's import form: a recording (oscilloscope CSV, plain CSV/NPY, WAV, spikeloop NWB) becomes a run
 * through POST /api/import. For spikeloop's own CSV or NPY export the picker also takes the export's
 * `run-<id>_about.json` (chosen together with the file), whose channel names, units, roles, rate and label the
 * form shows before anything is sent, and its `run-<id>-events.csv` (sent after the recording, same body); the
 * server's refusal (no rate, a sidecar for other files, events of another recording ...) is shown as it is.
 */
import { MAX_SIDECAR_CHARS } from '../../../common/limits.ts';
import { api } from '../api.ts';
import { h } from '../dom.ts';
import { si } from '../format.ts';

/** What the form reads of an export's _about.json (server/export sidecar()). */
interface Sidecar {
  format?: unknown;
  raw?: unknown;
  run?: { id?: unknown; label?: unknown; notes?: unknown; tags?: unknown };
  protocol?: unknown;
  channels: { name?: unknown; unit?: unknown; role?: unknown; sample_rate_hz?: unknown }[];
}

/** The picked files, read: the recording, the sidecar's text as sent, what it applies, or why it cannot go. */
interface Picked {
  recording?: File;
  sidecar?: string;
  /** The run's events export (`run-<id>-events.csv`), sent after the recording. */
  events?: File;
  plan: string;
  problem?: string;
}

const isSidecar = (f: File) => /\.json$/i.test(f.name);
/** The events export's name (server/export exportFileName), also as a browser saves a second download. */
const isEvents = (f: File) => /-events( \(\d+\))?\.csv$/i.test(f.name);
/** File names of spikeloop's CSV and NPY exports (server/export exportFileName). */
const EXPORT_NAME = /^run-(\d+)(-.+)?\.(csv|npy)$/i;

/**
 * The sidecar as the import sends it: its spikeloop_export, format, raw and channels (docs/import.md: these
 * suffice, and the whole file, with bench and circuit, may not fit the URL), and the run's id, label, tags,
 * notes and protocol as far as they fit (`left` says what did not).
 */
async function readSidecar(f: File): Promise<{ doc: Sidecar; text: string; left: string[] }> {
  let doc: (Partial<Sidecar> & { spikeloop_export?: unknown }) | null;
  try {
    doc = JSON.parse(await f.text()) as typeof doc;
  } catch (err) {
    throw new Error(`${f.name} is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (doc?.spikeloop_export !== 1 || !Array.isArray(doc.channels)) {
    throw new Error(`${f.name} is not a spikeloop export's _about.json (it has no "spikeloop_export": 1 and "channels"); a run page's "metadata (JSON)" link gives one`);
  }
  const base = { spikeloop_export: 1, format: doc.format, raw: doc.raw, channels: doc.channels };
  const { id, label, tags, notes } = doc.run ?? {};
  const tries: [unknown, string[]][] = [
    [{ ...base, run: { id, label, tags, notes }, protocol: doc.protocol }, []],
    [{ ...base, run: { id, label, tags, notes } }, ['protocol']],
    [{ ...base, run: { id, label, tags } }, ['protocol', 'notes']],
    [base, ['protocol', 'notes', 'label', 'tags']],
  ];
  const fits = tries.map(([d, left]) => ({ text: JSON.stringify(d), left })).find((t) => t.text.length <= MAX_SIDECAR_CHARS);
  const text = fits?.text ?? JSON.stringify(base);
  if (!fits) {
    throw new Error(`${f.name}: its ${doc.channels.length} channels take ${text.length} characters, more than the ${MAX_SIDECAR_CHARS} an upload carries; import with \`spikeloop import --sidecar ${f.name}\``);
  }
  return { doc: doc as Sidecar, text, left: fits.left };
}

/** "stim (A, stimulus), v_mem (V, response) at 50 kHz". */
function channelsText(doc: Sidecar): string {
  const chans = doc.channels.map((c) => `${String(c.name)} (${c.unit ? String(c.unit) : 'no unit'}, ${String(c.role)})`).join(', ');
  const rates = [...new Set(doc.channels.map((c) => Number(c.sample_rate_hz)))].map((r) => si(r, 'Hz')).join(' / ');
  return `${chans} at ${rates}`;
}

async function readPicked(files: File[]): Promise<Picked> {
  const json = files.filter(isSidecar);
  const evs = files.filter(isEvents);
  const data = files.filter((f) => !isSidecar(f) && !isEvents(f));
  if (evs.length > 1) return { plan: '', problem: `Choose one events file, not ${evs.length}: ${evs.map((f) => f.name).join(', ')}.` };
  const p = await readSidecarPicked(data, json);
  const [events] = evs;
  if (!events || p.problem) return p;
  return { ...p, events, plan: `${p.plan ? `${p.plan} ` : ''}${events.name}: the run's spikes, markers and faults are imported with it.` };
}

async function readSidecarPicked(data: File[], json: File[]): Promise<Picked> {
  if (data.length > 1) return { plan: '', problem: `Choose one recording (and its _about.json), not ${data.length}: ${data.map((f) => f.name).join(', ')}.` };
  if (json.length > 1) return { plan: '', problem: `Choose one _about.json, not ${json.length}: ${json.map((f) => f.name).join(', ')}.` };
  const [recording] = data;
  const [side] = json;
  if (!side) {
    const ours = recording && EXPORT_NAME.exec(recording.name);
    const plan = ours
      ? `${recording.name} looks like a spikeloop export: pick its run-${ours[1]}_about.json together with it (the run page's "metadata (JSON)") for its exact roles and rate, and run-${ours[1]}-events.csv for its events.`
      : '';
    return { recording, plan };
  }
  if (recording && /\.(nwb|h5)$/i.test(recording.name)) {
    return { recording, plan: `${recording.name} carries its own channel names, units, roles and rate: ${side.name} is not sent.` };
  }
  try {
    const { doc, text, left } = await readSidecar(side);
    const of = typeof doc.run?.id === 'number' ? ` (run ${doc.run.id}, ${String(doc.format).toUpperCase()} export)` : '';
    const npy = recording && /\.npy$/i.test(recording.name) ? `; ${recording.name} takes its own channel's entry` : '';
    const named = typeof doc.run?.label === 'string' && !left.includes('label') ? `; label "${doc.run.label}"` : '';
    const lost = left.length ? ` Its ${left.join(', ')} do not fit an upload and are not sent (\`spikeloop import\` takes them).` : '';
    return { recording, sidecar: text, plan: `${side.name}${of} applies: ${channelsText(doc)}${named}${npy}.${lost}` };
  } catch (err) {
    return { recording, plan: '', problem: err instanceof Error ? err.message : String(err) };
  }
}

export function importPanel(opened: (runId: number) => void): HTMLElement {
  const file = h('input', { type: 'file', multiple: true, 'aria-label': 'Recording file (and its _about.json and events)', title: 'The recording; for a spikeloop export pick its run-<id>_about.json and run-<id>-events.csv together with it', accept: '.csv,.txt,.npy,.wav,.nwb,.h5,.json' });
  // short placeholders that fit the narrow fields (the longer one was cut off); the rest is the title
  const rate = h('input', { type: 'text', class: 'narrow', placeholder: 'rate (Hz)', title: 'Sample rate in Hz, for a file without a time column or rate of its own', 'aria-label': 'Sample rate' });
  const unit = h('input', { type: 'text', class: 'narrow', placeholder: 'unit (V, A…)', title: 'Unit of the channels the file names none for', 'aria-label': 'Unit' });
  const stimulus = h('input', { type: 'text', class: 'narrow', placeholder: 'stimulus channel', title: 'The channel (name or number) that holds the applied stimulus, for pairing with the twin', 'aria-label': 'Stimulus channel' });
  const infer = h('input', { type: 'checkbox', checked: true, 'aria-label': 'Infer roles' });
  const inferLabel = h(
    'label',
    { class: 'hint', title: "A CSV without its _about.json states no roles: the channel named like a stimulus (stim, I_stim, Vin …) becomes the stimulus, and the run's notes say so. Off: every channel a response." },
    infer,
    ' infer roles',
  );
  const plan = h('div', { class: 'hint import-plan', 'data-import-plan': '' });
  const note = h('div', { class: 'list-message', role: 'status' });
  const go = h('button', { type: 'submit', class: 'button primary' }, 'Import');
  const form = h('form', { class: 'filters import-panel', hidden: true }, file, rate, unit, stimulus, inferLabel, go, plan, note) as HTMLFormElement;
  const fail = (text: string) => {
    note.className = 'list-message error-box';
    note.textContent = text;
  };
  let picked: Promise<Picked> = Promise.resolve({ plan: '' });
  file.addEventListener('change', () => {
    picked = readPicked(Array.from(file.files ?? []));
    void picked.then((p) => {
      plan.textContent = p.plan;
      note.className = 'list-message';
      note.textContent = '';
      if (p.problem) fail(p.problem);
    });
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void picked.then((p) => {
      if (p.problem) return fail(p.problem);
      const f = p.recording;
      if (!f) return fail(p.sidecar || p.events ? 'Choose the recording too: the _about.json and the events file only describe it.' : 'Choose a file first.');
      go.disabled = true;
      note.className = 'list-message';
      note.textContent = `Importing ${f.name}…`;
      api
        .importFile(f, {
          ...(rate.value.trim() ? { rate: Number(rate.value) } : {}),
          unit: unit.value.trim(),
          stimulus: stimulus.value.trim(),
          ...(infer.checked ? {} : { inferRoles: 'false' as const }),
          ...(p.sidecar ? { sidecar: p.sidecar } : {}),
        }, p.events)
        .then((run) => opened(run.id))
        .catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)))
        .finally(() => (go.disabled = false));
    });
  });
  return form;
}
