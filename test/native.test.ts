// The vtable kit: the Rust native reference pack passes every vtable
// property; each native mutant fails its ids; a crashing pack is reported
// and the run finishes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readPack } from '../harness/pack-file.ts';
import { checkNativePack } from '../harness/native/runner.ts';
import { trackerEnv } from '../harness/native/alloc-tracker.ts';
import { VTABLE_PROPERTY_IDS } from '../properties/catalog.ts';
import { buildMutant, buildNativeRust } from '../packs-under-test/build.ts';
import { NATIVE_MUTANTS } from '../packs-under-test/manifest.ts';
import { TEST_RUNS, TEST_SEED, failures, rustc, rustcMissing } from './support/check.ts';

const check = async (path: string, opts: { only?: string[]; expectAbi?: number | null; entrypoint?: string; timeoutMs?: number } = {}) =>
  checkNativePack(await readPack(path), { seed: TEST_SEED, runs: TEST_RUNS, timeoutMs: opts.timeoutMs ?? 5000, profile: 'sdk', expectAbi: opts.expectAbi ?? null, only: opts.only, entrypoint: opts.entrypoint });

const killed = new Map<string, boolean>();
const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'packcheck.js');

const tracker = trackerEnv();
const skipWhy = rustcMissing ?? null;

describe.skipIf(!rustc)(`native packs${skipWhy ? ` (skipped: ${skipWhy})` : ''}`, () => {
  it('the Rust native reference pack passes every vtable property', async () => {
    const rep = await check(buildNativeRust(rustc!, 'native-reference'), { expectAbi: rustc!.abiVersion });
    expect(failures(rep)).toBe('');
    expect(rep.pack.abi).toBe('vtable');
    expect(rep.pack.templates.map((t) => t.name)).toEqual(['native.echo', 'native.counter', 'native.sink', 'native.clock']);
    expect(rep.results.map((r) => r.id)).toEqual([...VTABLE_PROPERTY_IDS]);
    // Skipped only where the tracker is missing, and then with the reason.
    const skipped = rep.results.filter((r) => r.status === 'skipped');
    if ('missing' in tracker) expect(skipped.map((r) => r.id).sort()).toEqual(['vtable.drop.frees', 'vtable.register.keep-accepted', 'vtable.register.reclaim']);
    else expect(skipped).toEqual([]);
  });

  it('a caught panic in the register function answers -99 without killing the process', async () => {
    const rep = await check(buildNativeRust(rustc!, 'native-panic-in-register', 'panic-in-register'), { only: ['vtable.register.status-ok', 'vtable.register.null-host'] });
    const ok = rep.results.find((r) => r.id === 'vtable.register.status-ok')!;
    expect(ok.status).toBe('failed');
    expect(ok.message).toMatch(/status -99 after 2 register_template call/);
    expect(rep.results.filter((r) => r.id.startsWith('harness.'))).toEqual([]);
  });

  it('--entrypoint names another register symbol', async () => {
    const path = (await buildMutant(NATIVE_MUTANTS.find((m) => m.name === 'native-wrong-entrypoint')!, rustc))!;
    const rep = await check(path, { entrypoint: 'reflow_pack_register_v2', only: ['vtable.shape.symbols', 'vtable.register.status-ok'] });
    expect(failures(rep)).toBe('');
  });

  for (const m of NATIVE_MUTANTS) {
    const needsTracker = m.mustFail.some((id) => ['vtable.register.reclaim', 'vtable.register.keep-accepted', 'vtable.drop.frees'].includes(id));
    it.skipIf(needsTracker && 'missing' in tracker)(`${m.name}: ${m.defect}`, async () => {
      const path = (await buildMutant(m, rustc))!;
      const only = m.mustFail.filter((id) => !id.startsWith('harness.'));
      const rep = await check(path, { only, timeoutMs: m.options?.timeoutMs, expectAbi: m.options?.expectBuildAbi ? rustc!.abiVersion : null });
      const failed = new Set(rep.results.filter((r) => r.status === 'failed').map((r) => r.id));
      for (const id of m.mustFail) expect(failed, `${m.name} must fail ${id}: ${JSON.stringify(rep.results.map((r) => [r.id, r.status, r.message?.slice(0, 300)]))}`).toContain(id);
      killed.set(m.name, m.mustFail.every((id) => failed.has(id)));
      if (m.mustFail.includes('harness.timeout')) expect(rep.results.find((r) => r.id === 'harness.timeout')!.message).toMatch(/did not return within \d+ ms/);
      if (m.mustFail.includes('harness.crash')) {
        const crash = rep.results.find((r) => r.id === 'harness.crash')!;
        expect(crash.message).toMatch(/killed its process with SIG(SEGV|ABRT|BUS)/);
      }
      expect(rep.exitCode).toBe(1);
    });
  }

  it('packcheck on a crashing .so exits 1 and still writes the whole report@1 JSON', async () => {
    const path = (await buildMutant(NATIVE_MUTANTS.find((m) => m.name === 'native-crash-on-reject')!, rustc))!;
    const json = join(mkdtempSync(join(tmpdir(), 'packcheck-native-')), 'r.json');
    const r = await run(process.execPath, [BIN, path, '--seed', '3', '--runs', '10', '--json', json]).then(
      (x) => ({ code: 0, out: x.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL +harness\.crash/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.schema).toBe('packcheck/report@1');
    expect(rep.pack.abi).toBe('vtable');
    const ids = rep.results.map((x: { id: string }) => x.id);
    for (const id of VTABLE_PROPERTY_IDS) expect(ids).toContain(id);
    const crash = rep.results.find((x: { id: string }) => x.id === 'harness.crash');
    expect(crash.message).toMatch(/^during vtable\.register\.[a-z-]+: the pack killed its process with SIGSEGV during reflow_pack_register\(vtable\) with a host that will reject call #/);
    expect(rep.exitCode).toBe(1);
  });

  it('names every vtable property id in some mutant', () => {
    const named = new Set(NATIVE_MUTANTS.flatMap((m) => m.mustFail));
    expect(VTABLE_PROPERTY_IDS.filter((id) => !named.has(id))).toEqual([]);
  });

  afterAll(() => {
    const ids = new Set(NATIVE_MUTANTS.filter((m) => killed.get(m.name)).flatMap((m) => m.mustFail));
    console.log(`native mutation score: ${[...killed.values()].filter(Boolean).length}/${killed.size} mutants killed; ${VTABLE_PROPERTY_IDS.filter((id) => ids.has(id)).length}/${VTABLE_PROPERTY_IDS.length} vtable property ids shown failing`);
  });
});
