#!/usr/bin/env node
// Compiles the pack's source, pack/echo.wat, into pack/echo.wasm with wabt
// (installed with packcheck). Other output paths may be given instead:
//
//   node scripts/build-pack.mjs                      # → pack/echo.wasm
//   node scripts/build-pack.mjs packs/a.wasm b.wasm  # → each path given
//
// The .wasm is a build artefact (.gitignore'd); pack/echo.wat is the source.
// A fresh checkout of this example has no pack/echo.wat yet: the first build
// seeds it with packcheck's own hand-written reference pack (a conforming echo
// pack, from the installed package), and from then on it is yours to edit
// and commit.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'pack', 'echo.wat');
const outputs = process.argv.length > 2 ? process.argv.slice(2).map((p) => resolve(p)) : [join(ROOT, 'pack', 'echo.wasm')];

function fail(message) {
  console.error(`build-pack: ${message}`);
  process.exit(1);
}

if (!existsSync(SOURCE)) {
  let reference;
  try {
    // packcheck's main export is …/node_modules/packcheck/dist/harness/index.js;
    // the reference packs it ships, with the WAT pack's source, are in dist/reference-packs/.
    const main = fileURLToPath(import.meta.resolve('packcheck'));
    reference = join(dirname(main), '..', 'reference-packs', 'wat-reference.wat');
  } catch (e) {
    fail(`pack/echo.wat is missing and packcheck is not installed to seed it from (${e.message}); run npm install first`);
  }
  if (!existsSync(reference)) fail(`pack/echo.wat is missing and the installed packcheck has no ${reference}`);
  mkdirSync(dirname(SOURCE), { recursive: true });
  copyFileSync(reference, SOURCE);
  console.log(`build-pack: seeded pack/echo.wat from ${relative(ROOT, reference)}`);
}

const wabt = await wabtInit();
let bytes;
let module;
try {
  module = wabt.parseWat('echo.wat', readFileSync(SOURCE, 'utf8'), {});
  module.validate();
  bytes = module.toBinary({}).buffer;
} catch (e) {
  fail(`pack/echo.wat does not compile:\n${e.message}`);
} finally {
  module?.destroy();
}

for (const out of outputs) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  console.log(`build-pack: ${relative(process.cwd(), out) || out} (${bytes.length} bytes)`);
}
