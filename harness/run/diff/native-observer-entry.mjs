// Child processes of `packcheck diff` on native packs start here (see
// ../native-child-entry.mjs): the compiled observer when built, its
// TypeScript through tsx in a checkout.
import { existsSync } from 'node:fs';

const built = new URL('./native-observer.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./native-observer.ts');
}
