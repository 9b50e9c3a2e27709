// Worker-thread entry of WorkerPool (worker-pool.ts): loads tsx so the task module can be TypeScript,
// then answers {id, input} messages with the task's default export: {id, ok, output} or {id, ok: false, error}.
// Typed arrays in the output are transferred, not copied.
import { register } from 'tsx/esm/api';
import { parentPort, workerData } from 'node:worker_threads';

register();
const task = (await import(workerData.module)).default;

function transfers(value, out = new Set(), depth = 0) {
  if (value === null || typeof value !== 'object' || depth > 4) return out;
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) out.add(value.buffer);
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) transfers(v, out, depth + 1);
  return out;
}

parentPort.on('message', async ({ id, input }) => {
  try {
    const output = await task(input);
    parentPort.postMessage({ id, ok: true, output }, [...transfers(output)]);
  } catch (err) {
    parentPort.postMessage({
      id,
      ok: false,
      error: { name: err?.name ?? 'Error', message: err?.message ?? String(err), code: err?.code },
    });
  }
});
parentPort.postMessage({ ready: true });
