// The vtable kit: the Rust native reference pack passes every vtable
// property with no blocked result; each native mutant, against the whole
// battery, fails exactly its ids and blocks exactly its blocked ones; a
// crashing or hanging pack is reported, the run finishes, and the child that
// holds the pack never outlives packcheck.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readPack } from '../harness/run/pack-file.ts';
import { checkNativePack } from '../harness/run/native-runner.ts';
import { trackerEnv } from '../harness/hosts/native/alloc-tracker.ts';
import { TRACKER_IDS } from '../harness/run/native-plan.ts';
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

const read = (f: string) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};
/** The pids whose parent is `pid` (from /proc). */
const childrenOf = (pid: number) =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => Number(read(`/proc/${p}/stat`).replace(/^.*\) /s, '').split(' ')[1]) === pid);
const mapsOf = (pid: number) => read(`/proc/${pid}/maps`);
/** Running (a zombie no one has reaped yet is gone). */
const alive = (pid: number) => {
  const state = read(`/proc/${pid}/stat`).replace(/^.*\) /s, '').split(' ')[0];
  return state !== undefined && state !== '' && state !== 'Z' && state !== 'X';
};
/** Polls until `f` answers something (the test's own timeout bounds it). */
async function until<T>(f: () => T | undefined): Promise<T> {
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const skipWhy = rustcMissing ?? null;

describe.skipIf(!rustc)(`native packs${skipWhy ? ` (skipped: ${skipWhy})` : ''}`, () => {
  it('the Rust native reference pack passes every vtable property', async () => {
    const rep = await check(buildNativeRust(rustc!, 'native-reference'), { expectAbi: rustc!.abiVersion });
    expect(failures(rep)).toBe('');
    expect(rep.results.filter((r) => r.blockedBy)).toEqual([]);
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

  // Every mutant against the whole battery: exactly its failures, exactly its blocked results.
  for (const m of NATIVE_MUTANTS) {
    const needsTracker = m.mustFail.some((id) => (TRACKER_IDS as readonly string[]).includes(id));
    it.skipIf(needsTracker && 'missing' in tracker)(`${m.name}: ${m.defect}`, async () => {
      const path = (await buildMutant(m, rustc))!;
      const rep = await check(path, { timeoutMs: m.options?.timeoutMs, expectAbi: rustc!.abiVersion }); // always given: abi.version.expected is evaluated (or blocked) for every mutant
      const seen = JSON.stringify(rep.results.map((r) => [r.id, r.status, r.blockedBy, r.message?.slice(0, 300)]));
      const failed = [...new Set(rep.results.filter((r) => r.status === 'failed' || r.status === 'errored').map((r) => r.id))].sort();
      expect(failed, `${m.name} must fail exactly ${m.mustFail}: ${seen}`).toEqual([...m.mustFail].sort());
      // Without the tracker its three ids are skipped for that reason, not blocked.
      const blocked = (m.blocked ?? []).filter((id) => !('missing' in tracker && (TRACKER_IDS as readonly string[]).includes(id)));
      expect(rep.results.filter((r) => r.blockedBy).map((r) => r.id).sort(), `${m.name} must block exactly ${blocked}: ${seen}`).toEqual([...blocked].sort());
      // Every blocked result names a failed result of the same report.
      for (const r of rep.results.filter((x) => x.blockedBy)) expect(rep.results.some((x) => x.id === r.blockedBy && x.status === 'failed')).toBe(true);
      killed.set(m.name, true);
      if (m.mustFail.includes('harness.timeout')) expect(rep.results.find((r) => r.id === 'harness.timeout')!.message).toMatch(/did not return within \d+ ms/);
      if (m.mustFail.includes('harness.crash')) expect(rep.results.find((r) => r.id === 'harness.crash')!.message).toMatch(/killed its process with SIG(SEGV|ABRT|BUS)/);
      expect(rep.exitCode).toBe(1);
    });
  }

  it.skipIf('missing' in tracker)('an id a result is blocked by is evaluated even when --only leaves it out', async () => {
    const path = (await buildMutant(NATIVE_MUTANTS.find((m) => m.name === 'native-null-drop')!, rustc))!;
    const rep = await check(path, { only: ['vtable.drop.frees'] });
    expect(rep.results.map((r) => [r.id, r.status, r.blockedBy])).toEqual([
      ['vtable.drop.frees', 'skipped', 'vtable.register.args'],
      ['vtable.register.args', 'failed', undefined],
    ]);
  });

  it('a constructor that hangs is cut off in dlopen: harness.timeout names it, the report is written, exit 1', async () => {
    const path = (await buildMutant(NATIVE_MUTANTS.find((m) => m.name === 'native-ctor-hang')!, rustc))!;
    const json = join(mkdtempSync(join(tmpdir(), 'packcheck-native-')), 'r.json');
    const r = await run(process.execPath, [BIN, path, '--timeout-ms', '1000', '--json', json]).then(
      () => ({ code: 0 }),
      (e: { code: number }) => ({ code: e.code }),
    );
    expect(r.code).toBe(1);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    const timeout = rep.results.find((x: { id: string }) => x.id === 'harness.timeout');
    expect(timeout.message).toMatch(/dlopen\(.*native-ctor-hang-[0-9a-f]+\.so\) did not return within 1000 ms/);
    expect(rep.results.find((x: { id: string }) => x.id === 'vtable.load.dlopen').status).toBe('failed');
    // Every other id is blocked by it; abi.version.expected does not apply (no --expect-abi).
    const blocked = rep.results.filter((x: { blockedBy?: string }) => x.blockedBy === 'vtable.load.dlopen').map((x: { id: string }) => x.id);
    expect(blocked).toEqual(VTABLE_PROPERTY_IDS.filter((id) => id !== 'vtable.load.dlopen' && id !== 'abi.version.expected'));
  });

  it('the native child dies with packcheck, even while the pack hangs in its constructor', async () => {
    const path = (await buildMutant(NATIVE_MUTANTS.find((m) => m.name === 'native-ctor-hang')!, rustc))!;
    // packcheck with a limit far away: the child is stuck in dlopen when its parent is killed.
    const parent = spawn(process.execPath, [BIN, path, '--timeout-ms', '600000', '--quiet'], { stdio: 'ignore' });
    const pid = parent.pid!;
    const child = await until(() => childrenOf(pid).find((c) => mapsOf(c).includes(path)));
    parent.kill('SIGKILL');
    expect(await until(() => (alive(child) ? undefined : true))).toBe(true);
  });

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

  it('mutation score: every native mutant killed, every vtable id shown failing by some mutant', () => {
    const ran = NATIVE_MUTANTS.filter((m) => !(m.mustFail.some((id) => (TRACKER_IDS as readonly string[]).includes(id)) && 'missing' in tracker));
    const shown = new Set(ran.filter((m) => killed.get(m.name)).flatMap((m) => m.mustFail));
    console.log(`native mutation score: ${killed.size}/${ran.length} mutants killed; ${VTABLE_PROPERTY_IDS.filter((id) => shown.has(id)).length}/${VTABLE_PROPERTY_IDS.length} vtable property ids shown failing`);
    expect(ran.filter((m) => !killed.get(m.name)).map((m) => m.name)).toEqual([]);
    if (!('missing' in tracker)) expect(VTABLE_PROPERTY_IDS.filter((id) => !shown.has(id))).toEqual([]);
  });
});
