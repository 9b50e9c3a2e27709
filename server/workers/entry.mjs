// Worker-thread entry of the pool (pool.ts): answers {task, input} with the output of tasks[task](input).
// From the TypeScript sources (tests, `npm run bench`) the tasks module is tasks.ts and tsx's loader is
// registered first; from the compiled build it is tasks.js and no loader is involved.
// A thrown error crosses back as a plain {name, message, code} (structured clone would drop `code`).
// A streaming task ({task, input, stream: {port, credit}}, pool.ts stream()) is one of streamTasks: its
// items go out in batches over the port, each batch spending one credit of the shared counter.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import Tinypool from 'tinypool';


const { tasks: tasksUrl } = Tinypool.workerData;
if (tasksUrl.endsWith('.ts')) (await import('tsx/esm/api')).register();
const { tasks, streamTasks } = await import(tasksUrl);

// Started (its modules loaded at the main thread's priority), a pool thread yields the CPU to the server's
// event loop (the API, the live feed, the store's writer): on a busy machine heavy work slows down instead
// of the answers. Linux gives each thread its own nice value (setpriority on its thread id); elsewhere the
// thread keeps the process's priority.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 10);
} catch {
  // not Linux, or not allowed: same priority as the main thread
}

/**
 * A batch goes out when it holds this many bytes of typed arrays or this many items, or this long after the
 * previous one (a slow simulation still streams: its run starts with its first item, its progress shows).
 */
const BATCH_BYTES = 1 << 20;
const BATCH_ITEMS = 512;
const BATCH_MS = 50;

/** ArrayBuffers under `value` (a few levels deep), to transfer instead of copy. */
function buffers(value, out = new Set(), depth = 0) {
  if (value === null || typeof value !== 'object' || depth > 4) return out;
  if (ArrayBuffer.isView(value)) {
    // only a view of its whole buffer: moving a shared one would empty the other views on it
    if (value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) out.add(value.buffer);
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) buffers(v, out, depth + 1);
  return out;
}

/** Sends the items of a streaming task, waiting for credit when the reader is STREAM_WINDOW batches behind. */
async function stream(fn, input, { port, credit }) {
  let items = [];
  let bytes = 0;
  let moved = new Set();
  let sent = -Infinity;
  const flush = () => {
    while (Atomics.load(credit, 0) <= 0) Atomics.wait(credit, 0, 0, 1000);
    Atomics.sub(credit, 0, 1);
    port.postMessage({ items }, [...moved]);
    items = [];
    bytes = 0;
    moved = new Set();
    sent = performance.now();
  };
  for await (const item of fn(input)) {
    items.push(item);
    for (const b of buffers(item)) {
      moved.add(b);
      bytes += b.byteLength;
    }
    if (bytes >= BATCH_BYTES || items.length >= BATCH_ITEMS || performance.now() - sent >= BATCH_MS) flush();
  }
  if (items.length) flush();
  port.postMessage({ end: true });
  port.close();
}

export default async function run({ task, input, stream: ends }) {
  if (ends) {
    const fn = streamTasks[task];
    if (typeof fn !== 'function') throw { name: 'TaskError', message: `unknown streaming worker task "${task}"`, code: 'UNKNOWN_TASK' };
    try {
      await stream(fn, input, ends);
    } catch (err) {
      throw { name: err?.name ?? 'Error', message: err?.message ?? String(err), code: err?.code, field: err?.field };
    }
    return null;
  }
  const fn = tasks[task];
  if (typeof fn !== 'function') throw { name: 'TaskError', message: `unknown worker task "${task}"`, code: 'UNKNOWN_TASK' };
  let output;
  try {
    output = await fn(input);
  } catch (err) {
    throw { name: err?.name ?? 'Error', message: err?.message ?? String(err), code: err?.code, field: err?.field };
  }
  return Tinypool.move({ [Tinypool.transferableSymbol]: [...buffers(output)], [Tinypool.valueSymbol]: output });
}
