/**
 * Which twin circuit an STDP experiment runs on when none is named. The LIF circuits have no plastic
 * element (their "STDP curve" is membrane charging seen by the read pulses), so a run of the `stdp`
 * protocol defaults to the plastic memristive synapse server/twin/circuits/stdp-synapse.json.
 * Pure: documents in, names and reasons out.
 */
import { expandCircuit, type Netlist } from '../twin/circuit.ts';

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

/**
 * Why a twin circuit cannot show STDP, or null when it has a plastic element: no non-volatile memristive
 * device (the volatile `switch` model does not count), or a threshold-and-reset neuron whose read pulses
 * measure membrane charging rather than a synaptic weight. A circuit that does not expand gives null
 * (the run exists, so it expanded once; nothing to add here).
 */
export function nonPlasticReason(circuit: unknown): string | null {
  let net: Netlist;
  try {
    net = expandCircuit(circuit);
  } catch {
    return null;
  }
  if (!net.elements.some((e) => e.type === 'device' && e.model !== 'switch')) return `circuit ${net.name} has no non-volatile memristive device (no plasticity)`;
  if (net.elements.some((e) => e.type === 'neuron'))
    return `circuit ${net.name} is a threshold-and-reset neuron circuit: the read pulses see membrane charging, not a synaptic weight`;
  return null;
}
