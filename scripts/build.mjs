// `npm run build` (also prepare and prepack): packcheck as the package ships
// it, in dist/: the JavaScript, declarations and source maps tsc emits
// (tsconfig.build.json), the plain entry modules and data files the built
// code loads next to itself, and the prebuilt reference packs
// (scripts/reference-packs.ts). Needs the devDependencies (typescript, tsx).
// `--out DIR` builds the same elsewhere, without declarations: what
// scripts/coverage.mjs runs in sandboxes.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const outAt = process.argv.indexOf('--out');
const DIST = outAt > 0 ? resolve(process.argv[outAt + 1]) : join(ROOT, 'dist');
const tscExtra = outAt > 0 ? ['--outDir', DIST, '--declaration', 'false'] : [];
const require = createRequire(import.meta.url);
// Its output goes to stderr: `npm pack --json` prints its JSON on stdout, after the scripts.
const run = (args) => execFileSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', process.stderr, process.stderr] });

rmSync(DIST, { recursive: true, force: true });
run([join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-p', 'tsconfig.build.json', ...tscExtra]);
// Copied as they are: plain modules the compiled code starts by path, and data.
for (const f of ['bin/packcheck.js', 'harness/run/wasm-worker-entry.mjs', 'harness/run/host-worker-entry.mjs', 'harness/run/native-child-entry.mjs', 'harness/run/corpus-child-entry.mjs', 'harness/run/diff/wasm-observer-entry.mjs', 'harness/run/diff/native-observer-entry.mjs', 'harness/kernel/own-module.mjs', 'harness/fuzz/fuzz-worker-entry.mjs', 'harness/hosts/native/alloc-tracker.c', 'harness/hosts/native/probes/probe-pack.c']) {
  mkdirSync(dirname(join(DIST, f)), { recursive: true });
  copyFileSync(join(ROOT, f), join(DIST, f));
}
chmodSync(join(DIST, 'bin/packcheck.js'), 0o755);
run(['--import', 'tsx', 'scripts/reference-packs.ts', join(DIST, 'reference-packs')]);
