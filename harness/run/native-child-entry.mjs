// Native packs run in a child process of their own (a crash takes only it
// down). Built (dist/), the compiled child.js sits next to this file; in a
// checkout's sources there is only child.ts, run through tsx (a devDependency).
import { existsSync } from 'node:fs';

const built = new URL('./native-child.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./native-child.ts');
}
