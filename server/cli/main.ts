/** The `spikeloop` command line (bin/spikeloop.js): the program of ./program.ts for this process's arguments. */
import { buildProgram } from './program.ts';

// A reader that stops early (`spikeloop twin spice … | head`) closes the pipe: stop quietly, as Unix tools do,
// instead of crashing on an unhandled EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = await buildProgram(process.argv);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`spikeloop: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
