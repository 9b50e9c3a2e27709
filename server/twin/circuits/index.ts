/**
 * The built-in circuits (examples, benchmark circuits, the simulated and virtual benches' devices), imported
 * statically so nothing reads them from disk and the twin stays pure. A circuit is added by adding its JSON
 * file here and its line below; each is documented in docs/twin/circuits.md.
 */
import adaptiveLif from './adaptive-lif.json' with { type: 'json' };
import cpg2 from './cpg2.json' with { type: 'json' };
import crossbar from './crossbar.json' with { type: 'json' };
import er100 from './er100.json' with { type: 'json' };
import er20 from './er20.json' with { type: 'json' };
import hpMemristor from './hp-memristor.json' with { type: 'json' };
import lattice from './lattice.json' with { type: 'json' };
import lif from './lif.json' with { type: 'json' };
import lifBench from './lif-bench.json' with { type: 'json' };
import lifDaq from './lif-daq.json' with { type: 'json' };
import nsuBursting from './nsu-bursting.json' with { type: 'json' };
import nsuSynapse from './nsu-synapse.json' with { type: 'json' };
import nsuTonic from './nsu-tonic.json' with { type: 'json' };
import nwn2000 from './nwn2000.json' with { type: 'json' };
import spikingEr from './spiking-er.json' with { type: 'json' };
import spikingErStdp from './spiking-er-stdp.json' with { type: 'json' };
import spikingNwn from './spiking-nwn.json' with { type: 'json' };
import spikingNwnRaster from './spiking-nwn-raster.json' with { type: 'json' };
import spikingNwnStochastic from './spiking-nwn-stochastic.json' with { type: 'json' };
import spikingNwn1000Stochastic from './spiking-nwn1000-stochastic.json' with { type: 'json' };
import stdpSynapse from './stdp-synapse.json' with { type: 'json' };

/** A circuit document as stored (its format: docs/twin/circuits.md; checked by expandCircuit). */
export interface CircuitDoc {
  kind: string;
  description?: string;
  [field: string]: unknown;
}

const CATALOGUE: Readonly<Record<string, CircuitDoc>> = {
  'adaptive-lif': adaptiveLif,
  cpg2,
  crossbar,
  er100,
  er20,
  'hp-memristor': hpMemristor,
  lattice,
  lif,
  'lif-bench': lifBench,
  'lif-daq': lifDaq,
  'nsu-bursting': nsuBursting,
  'nsu-synapse': nsuSynapse,
  'nsu-tonic': nsuTonic,
  nwn2000,
  'spiking-er': spikingEr,
  'spiking-er-stdp': spikingErStdp,
  'spiking-nwn': spikingNwn,
  'spiking-nwn-raster': spikingNwnRaster,
  'spiking-nwn-stochastic': spikingNwnStochastic,
  'spiking-nwn1000-stochastic': spikingNwn1000Stochastic,
  'stdp-synapse': stdpSynapse,
};

/** Names of the built-in circuits, sorted. */
export const BUILT_IN_CIRCUITS: readonly string[] = Object.keys(CATALOGUE).sort();

/** Name, kind and description of each built-in circuit. */
export function listBuiltInCircuits(): { name: string; kind: string; description: string }[] {
  return BUILT_IN_CIRCUITS.map((name) => ({ name, kind: CATALOGUE[name].kind, description: CATALOGUE[name].description ?? '' }));
}

/** A fresh copy of the built-in circuit `name` (the caller may change it), or undefined when there is none. */
export function builtInCircuit(name: string): CircuitDoc | undefined {
  return Object.hasOwn(CATALOGUE, name) ? JSON.parse(JSON.stringify(CATALOGUE[name])) : undefined;
}
