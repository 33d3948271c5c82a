// Worker threads start here. Built (dist/), the compiled worker.js sits next
// to this file and is imported as it is. In a checkout's sources (under
// vitest) there is only worker.ts: tsx's loader (a devDependency) is
// registered inside the worker first. Under `npm run coverage` the sources'
// compiled twin (PACKCHECK_SANDBOX_JS, scripts/coverage.mjs) runs instead, so
// that what runs here is counted against the sources.
import { existsSync } from 'node:fs';

const built = new URL('./wasm-worker.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else if (process.env.PACKCHECK_SANDBOX_JS) await import(`${process.env.PACKCHECK_SANDBOX_JS}/harness/run/wasm-worker.js`);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./wasm-worker.ts');
}
