// Worker-thread entry of the pool (pool.ts): answers {task, input} with the output of tasks[task](input).
// From the TypeScript sources (tests, `npm run bench`) the tasks module is tasks.ts and tsx's loader is
// registered first; from the compiled build it is tasks.js and no loader is involved.
// A thrown error crosses back as a plain {name, message, code} (structured clone would drop `code`).
import Tinypool from 'tinypool';

const { tasks: tasksUrl } = Tinypool.workerData;
if (tasksUrl.endsWith('.ts')) (await import('tsx/esm/api')).register();
const { tasks } = await import(tasksUrl);

/** ArrayBuffers under `value` (a few levels deep), to transfer instead of copy. */
function buffers(value, out = new Set(), depth = 0) {
  if (value === null || typeof value !== 'object' || depth > 4) return out;
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) out.add(value.buffer);
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) buffers(v, out, depth + 1);
  return out;
}

export default async function run({ task, input }) {
  const fn = tasks[task];
  if (typeof fn !== 'function') throw { name: 'TaskError', message: `unknown worker task "${task}"`, code: 'UNKNOWN_TASK' };
  let output;
  try {
    output = await fn(input);
  } catch (err) {
    throw { name: err?.name ?? 'Error', message: err?.message ?? String(err), code: err?.code };
  }
  return Tinypool.move({ [Tinypool.transferableSymbol]: [...buffers(output)], [Tinypool.valueSymbol]: output });
}
