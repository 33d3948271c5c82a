// Host-adapter workers start here. tsx is registered in a namespace of its
// own, so only what goes through `api.import` (packcheck's TypeScript, and a
// `.ts` adapter with its imports) is compiled by tsx: a JavaScript adapter is
// imported by this plain module with Node's own loader, exactly as `node`
// would load it (module-type detection and all).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const api = register({ namespace: `packcheck-host-${process.pid}-${Math.random().toString(36).slice(2)}` });
const TS = /\.[cm]?tsx?$/;

/** @param {string} path */
function importAdapter(path) {
  const url = pathToFileURL(resolve(path)).href;
  return TS.test(path) ? api.import(url, import.meta.url) : import(url);
}

if (isMainThread) throw new Error('worker-entry.mjs runs in a worker thread');
if (workerData?.mode === 'import-check') {
  // Only tries the import: the CLI's check before any property runs.
  const { loadAdapter } = await api.import('./adapter.ts', import.meta.url);
  try {
    await loadAdapter(workerData.adapterPath, importAdapter);
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e?.message ?? e).split('\n')[0] });
  }
} else {
  const { startHostWorker } = await api.import('./worker.ts', import.meta.url);
  startHostWorker(importAdapter);
}
