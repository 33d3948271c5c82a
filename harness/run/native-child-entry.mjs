// Native packs run in a child process of their own (a crash takes only it
// down). Built (dist/), the compiled child.js sits next to this file; in a
// checkout's sources there is only child.ts, run through tsx (a devDependency);
// under `npm run coverage`, its compiled twin (PACKCHECK_SANDBOX_JS,
// scripts/coverage.mjs), so that what runs here is counted.
import { existsSync } from 'node:fs';

const built = new URL('./native-child.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else if (process.env.PACKCHECK_SANDBOX_JS) await import(`${process.env.PACKCHECK_SANDBOX_JS}/harness/run/native-child.js`);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./native-child.ts');
}
