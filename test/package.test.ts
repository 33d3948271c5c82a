// packcheck as its consumers get it: `npm pack`, then the tarball installed
// into an empty project with no TypeScript loader (only typescript and
// @types/node, for the consumer's own type check). Plain Node imports the
// built JavaScript, a NodeNext TypeScript project type-checks against the
// shipped .d.ts, and the CLI checks the prebuilt reference packs. It needs the
// npm registry for what the npm cache lacks (--prefer-offline).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { explain, mustSucceed, packInto, ROOT, run, tempFolder, TIMEOUT, type PackJson } from './support/npm.ts';
import type { ReferenceIndex } from '../harness/run/reference-packs.ts';

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
let project = '';
let packed: PackJson;

const CONSUMER_TS = `import { CheckedWasmHost, checkWasmPack, readPack, type PackReport } from 'packcheck';
import { validMessage, validPayload } from 'packcheck/arbitraries';
import { describePackConformance } from 'packcheck/vitest';

const report: PackReport = await checkWasmPack(await readPack('x.wasm'), { seed: 1, runs: 1, timeoutMs: 100, profile: 'sdk', expectAbi: null, jobs: 1 });
const code: 0 | 1 | number = report.exitCode;
console.log(code, CheckedWasmHost.instantiate, validMessage, validPayload, describePackConformance);
`;

const CONSUMER_MJS = `import { CheckedWasmHost, ALL_IDS, messageSchema } from 'packcheck';
import { validMessage, stringifyJson } from 'packcheck/arbitraries';
import fc from 'fast-check';

const [m] = fc.sample(validMessage(), { seed: 1, numRuns: 1 });
console.log(JSON.stringify({ host: typeof CheckedWasmHost, ids: ALL_IDS.length, classified: typeof messageSchema.classifyMessage, sample: typeof stringifyJson(m) }));
`;

describe('packcheck installed from its npm tarball, with no TypeScript loader', () => {
  const tmp = tempFolder('packcheck-package-');
  beforeAll(async () => {
    try {
      const pack = await packInto(join(tmp.path, 'tarball'));
      packed = pack.packed;
      project = join(tmp.path, 'consumer');
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
      writeFileSync(join(project, 'consumer.ts'), CONSUMER_TS);
      writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true }, files: ['consumer.ts'] }, null, 2)}\n`);
      writeFileSync(join(project, 'consumer.mjs'), CONSUMER_MJS);
      writeFileSync(join(project, 'adapter.ts'), 'export default async () => { throw new Error("never called"); };\n');
      copyFileSync(join(ROOT, 'test', 'fixtures', 'trace-imports.mjs'), join(project, 'trace-imports.mjs'));
      const deps = [`typescript@${manifest.devDependencies.typescript}`, `@types/node@${manifest.devDependencies['@types/node']}`];
      mustSucceed(await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', pack.tarball, ...deps], project), 'installing the tarball');
    } catch (e) {
      tmp.keep = true;
      throw e;
    }
  }, TIMEOUT);

  it('the tarball holds the built JavaScript, declarations, entries and reference packs, and no sources, tests, fixtures or mutants', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'dist/bin/packcheck.js', 'dist/harness/index.js', 'dist/harness/index.d.ts', 'dist/harness/index.js.map', 'dist/harness/vitest-suite.js', 'dist/harness/vitest-suite.d.ts', 'dist/properties/arbitraries/index.js', 'dist/properties/arbitraries/index.d.ts', 'dist/harness/cli.js', 'dist/harness/run/wasm-worker-entry.mjs', 'dist/harness/run/wasm-worker.js', 'dist/harness/run/host-worker-entry.mjs', 'dist/harness/run/native-child-entry.mjs', 'dist/harness/kernel/own-module.mjs', 'dist/harness/run/diff/wasm-observer-entry.mjs', 'dist/harness/run/diff/native-observer-entry.mjs', 'dist/harness/fuzz/fuzz-worker-entry.mjs', 'dist/harness/run/corpus-child-entry.mjs', 'dist/harness/run/corpus-child.js', 'dist/harness/fuzz/fuzz-worker.js', 'dist/harness/hosts/native/probes/probe-pack.c', 'dist/harness/hosts/native/alloc-tracker.c', 'dist/harness/hosts/wasm/stub-imports.js', 'dist/reference-packs/index.json', 'dist/reference-packs/wat-reference.wasm', 'dist/reference-packs/wat-reference.wat']) {
      expect(paths, `${p} is missing from the tarball`).toContain(p);
    }
    const stray = paths.filter((p) => !/^dist\//.test(p) ? !['package.json', 'README.md'].includes(p) : /^dist\/(packs-under-test|test|mocks\/host-adapters|bench|scripts)\//.test(p) || (/\.ts$/.test(p) && !/\.d\.ts$/.test(p)) || p.includes('/.cache/'));
    expect(stray, 'files that do not belong in the tarball').toEqual([]);
  });

  it('plain Node imports it: import("packcheck") gives CheckedWasmHost, a function; no TypeScript loader is installed', async () => {
    expect(existsSync(join(project, 'node_modules', 'tsx')), 'tsx was installed with packcheck').toBe(false);
    const r = mustSucceed(await run('node', ['-e', "import('packcheck').then(m => console.log(typeof m.CheckedWasmHost))"], project), 'node -e import');
    expect(r.stdout.trim()).toBe('function');
  }, TIMEOUT);

  it('a plain .mjs file imports packcheck and packcheck/arbitraries', async () => {
    const r = mustSucceed(await run('node', ['consumer.mjs'], project), 'node consumer.mjs');
    expect(JSON.parse(r.stdout)).toMatchObject({ host: 'function', classified: 'function', sample: 'string' });
  }, TIMEOUT);

  it('a NodeNext TypeScript project type-checks against the shipped .d.ts (tsc --noEmit, no skipLibCheck)', async () => {
    const r = await run(join(project, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', '.'], project);
    expect(r.code, explain(r, 'tsc --noEmit in the consumer')).toBe(0);
  }, TIMEOUT);

  it('npx packcheck --version, --help and --list answer without loading koffi, binaryen, fast-check or a property module', async () => {
    for (const flag of ['--version', '--help', '--list']) {
      const trace = join(tmp.path, `trace${flag}.txt`);
      writeFileSync(trace, '');
      const r = mustSucceed(await run('node', ['--import', './trace-imports.mjs', 'node_modules/.bin/packcheck', flag], project, { PACKCHECK_TRACE_FILE: trace }), `packcheck ${flag}`);
      if (flag === '--version') expect(r.stdout.trim()).toBe(manifest.version);
      const loaded = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
      expect(loaded.some((u) => u.endsWith('/dist/harness/cli.js')), `the trace did not see the CLI load:\n${loaded.join('\n')}`).toBe(true);
      const heavy = loaded.filter((u) => /\/node_modules\/(koffi|binaryen|fast-check|wabt|yauzl)\//.test(u) || /\/dist\/properties\/(?!catalog\.js|statements\.js|budgets\.js)/.test(u) || /\/dist\/harness\/(run\/(?!replay\.js)|hosts\/|kernel\/|commands\/)/.test(u));
      expect(heavy, `packcheck ${flag} loaded`).toEqual([]);
    }
    const r = await run('npx', ['--no', '--', 'packcheck', '--version'], project);
    expect(r.stdout.trim(), explain(r, 'npx packcheck --version')).toBe(manifest.version);
  }, TIMEOUT);

  it('npx packcheck with no pack checks the prebuilt reference packs the tarball ships', async () => {
    const index = JSON.parse(readFileSync(join(project, 'node_modules', 'packcheck', 'dist', 'reference-packs', 'index.json'), 'utf8')) as ReferenceIndex;
    const r = await run('npx', ['--no', '--', 'packcheck', '--only', 'abi.version,wasm.shape,vtable.shape', '--runs', '3', '--seed', '1'], project);
    expect(r.code, explain(r, 'npx packcheck (reference packs)')).toBe(0);
    const here = `${process.platform}-${process.arch}`;
    for (const p of index.packs.filter((x) => !x.platform || x.platform === here)) expect(r.stdout).toContain(`dist/reference-packs/${p.file}`);
    // Built where it was packed: the Rust packs are in the tarball when this machine has Debian's rustc.
    if (existsSync('/usr/lib/rustlib/wasm32-unknown-unknown')) expect(index.packs.map((p) => p.name)).toEqual(expect.arrayContaining(['wat-reference', 'rust-reference', 'native-reference']));
  }, TIMEOUT);

  it('npx packcheck <a reference pack> checks it (a native .so here: koffi and the child process from the built JavaScript)', async () => {
    const index = JSON.parse(readFileSync(join(project, 'node_modules', 'packcheck', 'dist', 'reference-packs', 'index.json'), 'utf8')) as ReferenceIndex;
    const pack = index.packs.find((p) => p.platform === `${process.platform}-${process.arch}`) ?? index.packs[0]!;
    const r = await run('npx', ['--no', '--', 'packcheck', `node_modules/packcheck/dist/reference-packs/${pack.file}`, '--runs', '3', '--seed', '1', '--only', 'abi.version,vtable,wasm.shape,wasm.register', '--expect-abi', String(pack.expectAbi)], project);
    expect(r.code, explain(r, `npx packcheck ${pack.file}`)).toBe(0);
    expect(r.stdout).toMatch(/conforms: \d+ passed, 0 failed, 0 errored/);
  }, TIMEOUT);

  it('packcheck host with a .ts adapter and no TypeScript loader: one line saying what to install, exit 2', async () => {
    const r = await run('npx', ['--no', '--', 'packcheck', 'host', 'adapter.ts'], project);
    expect(r.code, explain(r, 'packcheck host adapter.ts')).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/install tsx/);
  }, TIMEOUT);
});
