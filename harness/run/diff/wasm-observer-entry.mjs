// Worker threads of `packcheck diff` start here (see ../wasm-worker-entry.mjs):
// the compiled observer when built, its TypeScript through tsx in a checkout.
import { existsSync } from 'node:fs';

const built = new URL('./wasm-observer.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./wasm-observer.ts');
}
