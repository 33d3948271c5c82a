// How a sandbox's entry module (a worker thread's or a child process's first
// module, plain JavaScript so that Node starts it with no loader) imports the
// packcheck module it runs:
// - built (dist/): the compiled `NAME.js` next to the entry, as it is;
// - under `npm run coverage`: the sources' compiled twin in
//   PACKCHECK_SANDBOX_JS (scripts/coverage.mjs), so that what runs in the
//   sandbox is counted against the sources;
// - in a checkout's sources (under vitest): `NAME.ts` through tsx's loader
//   (a devDependency), registered in the sandbox first.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** @param {string} entryUrl the entry's import.meta.url @param {string} name the module next to it, without extension */
export async function importOwn(entryUrl, name) {
  const built = new URL(`./${name}.js`, entryUrl);
  if (existsSync(built)) return import(built.href);
  const twin = process.env.PACKCHECK_SANDBOX_JS;
  if (twin) return import(pathToFileURL(`${twin}/${relative(ROOT, fileURLToPath(built))}`).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`./${name}.ts`, entryUrl).href);
}
