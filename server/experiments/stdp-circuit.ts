/**
 * Which twin circuit an STDP experiment runs on when none is named. The LIF circuits have no plastic
 * element (their "STDP curve" is membrane charging seen by the read pulses), so a run of the `stdp`
 * protocol defaults to the plastic memristive synapse server/twin/circuits/stdp-synapse.json.
 * Pure: a document in, a circuit name out.
 */

/** Built-in plastic synapse circuit: a VTEAM threshold memristor between the pre and post terminals. */
export const STDP_CIRCUIT = 'stdp-synapse';

/**
 * The built-in circuit name for a protocol document, or a sweep document (its `base`), when the caller
 * names none: STDP_CIRCUIT for the stdp protocol, otherwise `fallback`.
 */
export function defaultTwinCircuit(doc: unknown, fallback?: string): string | undefined {
  const kindOf = (d: unknown): unknown => (typeof d === 'object' && d !== null ? (d as { kind?: unknown }).kind : undefined);
  const kind = kindOf(doc) === 'sweep' ? kindOf((doc as { base?: unknown }).base) : kindOf(doc);
  return kind === 'stdp' ? STDP_CIRCUIT : fallback;
}
