// Host-adapter workers start here. A JavaScript adapter is imported by this
// plain module with Node's own loader, exactly as `node` would load it
// (module-type detection and all). A TypeScript adapter needs a TypeScript
// loader: tsx (an optional peer dependency), registered in a namespace of its
// own so that only what goes through `api.import` is compiled by it.
// Built (dist/), packcheck's own modules are the compiled .js next to this
// file; in a checkout's sources (under vitest) they are .ts, imported through
// that tsx namespace as well (tsx is a devDependency there).
import { existsSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TS = /\.[cm]?tsx?$/;
const BUILT = existsSync(new URL('./host-worker.js', import.meta.url));
let api = null;

/** tsx's namespaced API, registered on first use; a missing tsx is one line saying what to install. */
async function tsx() {
  if (api) return api;
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    throw new Error('a TypeScript adapter needs a TypeScript loader: install tsx next to packcheck (npm install --save-dev tsx), or give a .js/.mjs adapter');
  }
  api = register({ namespace: `packcheck-host-${process.pid}-${Math.random().toString(36).slice(2)}` });
  return api;
}

// Under `npm run coverage`, the sources' compiled twin (scripts/coverage.mjs), so that what runs here is counted.
const SANDBOX_JS = !BUILT && process.env.PACKCHECK_SANDBOX_JS ? `${process.env.PACKCHECK_SANDBOX_JS}/harness/run/` : null;

/** One of packcheck's own modules, by its path relative to this file without extension. */
async function own(name) {
  if (BUILT) return import(`${name}.js`);
  if (SANDBOX_JS) return import(new URL(`${name}.js`, pathToFileURL(SANDBOX_JS)).href);
  return (await tsx()).import(`${name}.ts`, import.meta.url);
}

/** @param {string} path */
async function importAdapter(path) {
  const url = pathToFileURL(resolve(path)).href;
  return TS.test(path) ? (await tsx()).import(url, import.meta.url) : import(url);
}

if (isMainThread) throw new Error('worker-entry.mjs runs in a worker thread');
if (workerData?.mode === 'import-check') {
  // Only tries the import: the CLI's check before any property runs.
  const { loadAdapter } = await own('../hosts/js/adapter');
  try {
    await loadAdapter(workerData.adapterPath, importAdapter);
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e?.message ?? e).split('\n')[0] });
  }
} else {
  const { startHostWorker } = await own('./host-worker');
  startHostWorker(importAdapter);
}
