// Worker threads start here: tsx's loader has to be registered inside the
// worker before the TypeScript worker module can be imported.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

// binaryen is 15 MB of JavaScript: through tsx's loader it takes ~12 s to
// import, natively under one. Only the worker that surveys the pack needs it.
if (workerData?.survey === null) globalThis[Symbol.for('packcheck.binaryen')] = (await import('binaryen')).default;
register();
await import('./worker.ts');
