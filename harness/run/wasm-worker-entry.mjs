// Worker threads start here. Built (dist/), the compiled worker.js sits next
// to this file and is imported as it is. In a checkout's sources (under
// vitest) there is only worker.ts: tsx's loader (a devDependency) is
// registered inside the worker first.
import { existsSync } from 'node:fs';

const built = new URL('./wasm-worker.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./wasm-worker.ts');
}
