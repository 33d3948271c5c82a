// Fuzz campaign workers start here (see harness/run/wasm-worker-entry.mjs
// for the built / sources / coverage cases). binaryen is imported first,
// before tsx's loader is registered: through tsx its 14 MB of JavaScript
// takes ~17 s to load instead of ~2 s, and once loaded the module cache
// serves instrument.ts's own import of it. Plain workers (replay,
// confirming a hang) never load it.
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

if (!workerData.plain && !workerData.instrumented) await import('binaryen');
const built = new URL('./fuzz-worker.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else if (process.env.PACKCHECK_SANDBOX_JS) await import(`${process.env.PACKCHECK_SANDBOX_JS}/harness/fuzz/fuzz-worker.js`);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./fuzz-worker.ts');
}
