/** The `spikeloop` command line (bin/spikeloop.js): the program of ./program.ts for this process's arguments. */
import { buildProgram } from './program.ts';

const program = await buildProgram(process.argv);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`spikeloop: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
