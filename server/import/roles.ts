/**
 * The stimulus channel of a CSV that states no roles (read without its export's `_about.json`): every column
 * would otherwise be a response, so an exported run re-imported that way had no stimulus for twin pairing,
 * the X–Y view or the recorded-stimulus protocol. Only names are read, never values, and the run's notes say
 * what was inferred (server/import/index.ts).
 */

import { importOption, type OptionNaming } from './csv.ts';

/** How a note tells the reader to override the inference, in the caller's option names (CLI flags or API query fields). */
function override(naming: OptionNaming | undefined): string {
  return `give the export's _about.json sidecar, name the stimulus with ${importOption(naming, 'stimulus', '<channel>').text}, or turn this off with ${importOption(naming, 'noInferRoles').text}`;
}

/** Words of a channel name, lower case: "I_stim" → i, stim; "IStim" → i, stim; "VIn" → v, in; "stimulus 2" → stimulus, 2. */
function words(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])|([A-Z])([A-Z][a-z])/g, (_, a, b, c, d) => (a ? `${a} ${b}` : `${c} ${d}`))
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * A name people give the applied signal: a word starting with "stim" (stim, I_stim, stimulus, Stim1,
 * stimulation), an input with or without its quantity (in, input, Vin, I_in, v_input), or a patch clamp's
 * "command" (cmd).
 */
export function stimulusLike(name: string): boolean {
  const w = words(name);
  if (w.some((x) => x.startsWith('stim') || x === 'command' || x === 'cmd')) return true;
  const rest = w.length === 2 && (w[0] === 'v' || w[0] === 'i') ? w[1] : w.length === 1 ? w[0].replace(/^[vi](?=in)/, '') : '';
  return rest === 'in' || rest === 'input';
}

/**
 * Which channel of a CSV without roles is the stimulus.
 *
 * 1. spikeloop's own CSV export (`time_s` first, server/export csvChunks): the channel named `stim`, the
 *    stimulus of every spikeloop source (simulated bench, DAQ, SMU, twin).
 * 2. Otherwise the one channel named like a stimulus (`stimulusLike`). When several are, none is taken: a
 *    pick between them would be a guess.
 *
 * @param names the channel names (time column excluded)
 * @param spikeloopExport the header is the export's (`time_s`, then `name (unit)` columns)
 * @param naming how the note names the overriding options (ReadOptions.naming)
 * @returns the stimulus channel's index (null: all channels stay responses) and the sentence for the run's
 *   notes (null when no name looks like a stimulus)
 */
export function inferStimulus(names: string[], spikeloopExport: boolean, naming?: OptionNaming): { stimulus: number | null; note: string | null } {
  const stim = spikeloopExport ? names.indexOf('stim') : -1;
  if (stim >= 0) {
    return { stimulus: stim, note: `roles inferred: "stim" is the stimulus, the other channels are responses (the layout of spikeloop's CSV export, read without its _about.json); to change that, ${override(naming)}` };
  }
  const like = names.flatMap((n, k) => (stimulusLike(n) ? [k] : []));
  if (like.length === 1) {
    return { stimulus: like[0], note: `roles inferred: "${names[like[0]]}" is the stimulus (named like one), the other channels are responses; to change that, ${override(naming)}` };
  }
  if (like.length > 1) {
    const list = like.map((k) => `"${names[k]}"`).join(', ');
    return { stimulus: null, note: `roles not inferred: ${list} are all named like a stimulus, so every channel is a response; name the stimulus with ${importOption(naming, 'stimulus', '<channel>').text} or give the export's _about.json sidecar` };
  }
  return { stimulus: null, note: null };
}
