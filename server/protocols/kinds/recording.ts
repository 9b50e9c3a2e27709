/**
 * A recording made elsewhere and imported (`spikeloop import`, server/import): the protocol of an imported
 * run. Its stimulus is the stored stimulus channel, not a generator: the run manager refuses to play it on a
 * source other than `import`, except as the recorded stimulus of a twin run (StartRequest.input, experiments/pairing.ts).
 */
import { Type, type Static } from 'typebox';
import { durationS, level, quantity, type ProtocolKind } from '../kind.ts';

/** A stimulus extreme; null when the recording has no stimulus channel (nothing was applied, so there is no range). */
const extreme = (title: string, description: string) =>
  Type.Union([level({ title, description }, 0), Type.Null()], { default: null, title, description: `${description} (null: no stimulus channel)` });

export const RecordingSchema = Type.Object(
  {
    kind: Type.Literal('recording'),
    quantity,
    durationS,
    file: Type.String({ maxLength: 1024, title: 'File', description: 'Name of the imported file' }),
    format: Type.Union(['scope-csv', 'csv', 'npy', 'wav', 'nwb'].map((f) => Type.Literal(f)), { title: 'Format', description: 'How the file was read' }),
    vendor: Type.Union([Type.String({ maxLength: 100 }), Type.Null()], { default: null, title: 'Vendor', description: 'Instrument the file layout identifies' }),
    stimulusChannel: Type.Union([Type.String({ maxLength: 200 }), Type.Null()], { default: null, title: 'Stimulus channel', description: 'The channel holding the applied stimulus, if any' }),
    min: extreme('Lowest stimulus', 'Lowest stimulus value'),
    max: extreme('Highest stimulus', 'Highest stimulus value'),
    exportedRun: Type.Optional(
      Type.Object(
        {
          id: Type.Union([Type.Integer(), Type.Null()], { title: 'Run id', description: 'The exported run' }),
          protocol: Type.Union([Type.Object({ kind: Type.String() }, { additionalProperties: true }), Type.Null()], { title: 'Protocol', description: "The exported run's protocol" }),
        },
        { additionalProperties: false, title: 'Exported run', description: "A spikeloop export's run (its sidecar or NWB file): the run and protocol the recording was made with" },
      ),
    ),
  },
  { additionalProperties: false, title: 'Imported recording' },
);
export type RecordingProtocol = Static<typeof RecordingSchema>;

export const recording: ProtocolKind<RecordingProtocol> = {
  schema: RecordingSchema,
  imported: true,
  // no stimulus channel: nothing is applied, 0 for the bench limits (a twin fed another channel of it, pairing)
  extremes: (p) => (p.min === null || p.max === null ? [0] : [p.min, p.max]),
  // never played (`imported`): the run manager allows it only on the import source and as a twin's recorded stimulus
  waveform: () => () => 0,
  random: (g, quantity, durationS) => ({ kind: 'recording', quantity, durationS, file: 'scope.csv', format: 'scope-csv', vendor: null, stimulusChannel: null, min: 0, max: g.level() }),
};
