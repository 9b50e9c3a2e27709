// Preloaded (--require) into the server the soak bench starts: appends its main thread's
// process.memoryUsage() to the file named by SPIKELOOP_SOAK_MEMORY every 5 s, so the bench can tell the
// JavaScript heap's and the buffers' share of a slope from the rest of the RSS (native: SQLite, malloc
// arenas, threads). The variable is removed at once, so the processes and threads the server starts stay quiet.
const { appendFileSync } = require('node:fs');
const { isMainThread } = require('node:worker_threads');

const out = process.env.SPIKELOOP_SOAK_MEMORY;
delete process.env.SPIKELOOP_SOAK_MEMORY;
if (out && isMainThread) {
  setInterval(() => {
    const { heapUsed, external } = process.memoryUsage();
    appendFileSync(out, `${JSON.stringify({ at: Date.now(), heapUsed, external })}\n`);
  }, 5000).unref();
}
