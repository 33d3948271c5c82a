// Worker threads start here. Built (dist/), the compiled worker.js sits next
// to this file and is imported as it is. In a checkout's sources (under
// vitest) there is only worker.ts: tsx's loader (a devDependency) is
// registered inside the worker first.
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const built = new URL('./worker.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  // binaryen is 15 MB of JavaScript: through tsx's loader it takes ~12 s to
  // import, natively under one. Only the worker that surveys the pack needs it.
  if (workerData?.survey === null) globalThis[Symbol.for('packcheck.binaryen')] = (await import('binaryen')).default;
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
