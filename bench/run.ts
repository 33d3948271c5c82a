// `npm run bench`: (a) ticks per second through the fully checked host versus
// a bare loop doing only ABI.md's tick sequence, side by side in one run;
// (b) the battery's wall time at default settings; (c) `packcheck --version`
// and `--help` start-up time, the sources through tsx against the built
// JavaScript (dist/, `npm run build`). Figures, not assertions.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readPack } from '../harness/run/pack-file.ts';
import { CallGuard, newGuardBuffer } from '../harness/kernel/call-guard.ts';
import { CheckedWasmHost } from '../harness/hosts/wasm/wasm-host.ts';
import { compileWriteBarrier, type WriteBarrier } from '../harness/hosts/wasm/write-barrier.ts';
import { checkWasmPack, type ProfileEvent, type RunnerOptions } from '../harness/run/wasm-runner.ts';
import { buildRust, buildWat, findRustc, WAT_REFERENCE, type Patch } from '../packs-under-test/build.ts';
import { importsFor } from '../harness/hosts/wasm/stub-imports.ts';
import { floorRounds } from './tick-floor.ts';
import { WAT_REFERENCE_ABI } from '../packs-under-test/reference.ts';

const PROFILE = process.argv.includes('--profile');
/** `--parts=abd`: only those parts (a: ticks, b: battery, c: start-up, d: corpus). */
const PARTS = process.argv.find((a) => a.startsWith('--parts='))?.slice('--parts='.length) ?? 'abcd';
const rustc = findRustc();
const packPath = 'missing' in rustc ? await buildWat(WAT_REFERENCE, 'wat-reference') : buildRust(rustc, 'rust-reference');
const packName = 'missing' in rustc ? `WAT reference pack (Rust reference not built: ${rustc.missing})` : 'Rust reference pack';
const bytes = (await readPack(packPath)).bytes;
const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
const TICKS = 20_000;
const ROUNDS = 25;
const enc = (s: string) => new TextEncoder().encode(s);
const PAYLOADS = {
  'tiny (one Integer, 45 B)': enc('{"input":{"in":{"type":"Integer","data":42}}}'),
  'typical (a String, an Object and a Bytes Message, ~330 B)': enc(
    JSON.stringify({ input: { in: { type: 'String', data: 'temperature reading from sensor 12 in hall B, calibrated' }, cfg: { type: 'Object', data: { data: [...enc('{"unit":"C","window":60,"alarm":[18.5,27.0]}')] } }, raw: { type: 'Bytes', data: [1, 2, 3, 250, 251, 252, 0, 17, 99, 100] } } }),
  ),
};

// The pack with its write barrier (harness/hosts/wasm/write-barrier.ts; null: refused). The battery's host verifies
// every held block after every call; the barrier's host verifies only the blocks a call wrote into.
const barrierBuild = PARTS.includes('a') ? await compileWriteBarrier(bytes) : null;
const barrier: WriteBarrier | null = barrierBuild && 'module' in barrierBuild ? barrierBuild : null;
/** PACKCHECK_BENCH_BEFORE=<another checkout>: that checkout's checked host, measured in the same rounds. */
const beforeRoot = process.env['PACKCHECK_BENCH_BEFORE'];
const beforeHost = beforeRoot && PARTS.includes('a') ? ((await import(join(beforeRoot, 'harness', 'hosts', 'wasm', 'wasm-host.ts'))) as { CheckedWasmHost: typeof CheckedWasmHost }).CheckedWasmHost : null;

/**
 * Ticks of the fully checked host: guard, ledger, bounds, block verification
 * after every call (of every held block, or with the barrier of those the
 * call wrote into), slot sentinels, result bounds.
 */
function checkedRounds(payload: Uint8Array, withBarrier: WriteBarrier | null, Host = CheckedWasmHost): () => number {
  const host = Host.instantiate(module, { guard: new CallGuard(newGuardBuffer(), 2000), barrier: withBarrier });
  host.register();
  const id = host.create(0);
  return () => {
    const t0 = performance.now();
    for (let i = 0; i < TICKS; i++) if (host.run(id, payload).status !== 0) throw new Error('checked tick failed');
    return performance.now() - t0;
  };
}

/** ABI.md's tick sequence and nothing else: no guard, ledger, verification or bounds checks. */
function bareRounds(payload: Uint8Array): () => number {
  const inst = new WebAssembly.Instance(module, importsFor(module, () => {}));
  const ex = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  ex.__reflow_pack_register!();
  const id = ex.__reflow_pack_create_actor!(0);
  return () => {
    const t0 = performance.now();
    for (let i = 0; i < TICKS; i++) {
      const p = ex.__reflow_pack_alloc!(payload.length) >>> 0;
      new Uint8Array(ex.memory.buffer).set(payload, p);
      const s = ex.__reflow_pack_alloc!(8) >>> 0;
      const status = ex.__reflow_pack_actor_run!(id, p, payload.length, s, s + 4);
      const dv = new DataView(ex.memory.buffer);
      const outPtr = dv.getUint32(s, true);
      const outLen = dv.getUint32(s + 4, true);
      new Uint8Array(ex.memory.buffer).slice(outPtr, outPtr + outLen);
      ex.__reflow_pack_free!(outPtr, Math.max(outLen, 1));
      ex.__reflow_pack_free!(p, payload.length);
      ex.__reflow_pack_free!(s, 8);
      if (status !== 0) throw new Error('bare tick failed');
    }
    return performance.now() - t0;
  };
}

/** The CLI's default for one pack (harness/cli.ts). */
const JOBS = Math.min(4, availableParallelism());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`packcheck bench on the ${packName}, node ${process.version}, ${availableParallelism()} cores`);
if (PARTS.includes('a')) console.log(`(a) __reflow_pack_actor_run ticks through the checked host vs a bare ABI loop: ${ROUNDS} interleaved rounds of ${TICKS} ticks each (the first 5 are warm-up), medians:`);
if (PARTS.includes('a')) console.log(`    write barrier: ${barrier ? `${barrier.writeSites} write sites instrumented` : `refused (${(barrierBuild as { refused: string }).refused}): every held block is verified after every call`}`);
for (const [name, payload] of PARTS.includes('a') ? Object.entries(PAYLOADS) : []) {
  // Each side of the comparison: the bare loop, the checked host as the battery runs it (every held block
  // verified), the same host with the write barrier, and another checkout's host when asked.
  const sides: [string, () => number][] = [
    ['bare', bareRounds(payload)],
    ['checked', checkedRounds(payload, null)],
  ];
  if (barrier) sides.push(['checked with the write barrier', checkedRounds(payload, barrier)]);
  if (beforeHost) sides.push([`checked, ${beforeRoot}`, checkedRounds(payload, null, beforeHost)]);
  // The floor (bench/tick-floor.ts): the tick written out by hand with only the watchdog's marks, then with
  // the trap guard and per-call verification of held blocks too. What the host adds is above the second.
  sides.push(['floor: hand-written tick, watchdog marks only', floorRounds(module, payload, TICKS, false)]);
  sides.push(['floor: hand-written tick, marks + trap guard + every held block verified after every call', floorRounds(module, payload, TICKS, true)]);
  const ms = sides.map((): number[] => []);
  const ratios = sides.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    const took = sides.map(([, round]) => round());
    if (r < 5) continue;
    took.forEach((t, i) => {
      ms[i]!.push(t);
      ratios[i]!.push(t / took[0]!);
    });
  }
  const perSec = (t: number) => ((TICKS / t) * 1000).toFixed(0);
  console.log(`    payload ${name}: bare ${perSec(median(ms[0]!))} ticks/s; target checked/bare <= ${name.startsWith('tiny') ? '1.25' : '1.15'}`);
  for (let i = 1; i < sides.length; i++) console.log(`      ${sides[i]![0]}: ${perSec(median(ms[i]!))} ticks/s, time ratio to bare ${median(ratios[i]!).toFixed(2)}`);
}

// (b) The battery at default settings (100 runs, seed 1, the CLI's default
// jobs for one pack), and the floor: the pack's own time inside it (its
// calls and instantiations, summed over the workers), from one more run
// with the worker threads' phase clocks on (harness/hosts/wasm/phase-clock.ts).
if (PARTS.includes('b')) {
  const expectAbi = 'missing' in rustc ? WAT_REFERENCE_ABI : rustc.abiVersion;
  const BATTERIES = 5;
  const battery = (onProfile?: RunnerOptions['onProfile']) => checkWasmPack(packFile, { seed: 1, runs: 100, timeoutMs: 2000, profile: 'sdk', expectAbi, jobs: JOBS, onProfile });
  const packFile = await readPack(packPath);
  const walls: number[] = [];
  let verdicts = '';
  for (let i = 0; i < BATTERIES; i++) {
    const t0 = performance.now();
    const rep = await battery();
    walls.push((performance.now() - t0) / 1000);
    verdicts = `${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped`;
  }
  // PACKCHECK_BENCH_BEFORE=<another checkout>: that checkout's runner and this one, interleaved in this process.
  const beforeRoot = process.env['PACKCHECK_BENCH_BEFORE'];
  if (beforeRoot) {
    const before = (await import(join(beforeRoot, 'harness', 'run', 'wasm-runner.ts'))) as { checkWasmPack: typeof checkWasmPack };
    const pairs: [number, number][] = [];
    for (let i = 0; i < BATTERIES + 1; i++) {
      let t = performance.now();
      await before.checkWasmPack(packFile, { seed: 1, runs: 100, timeoutMs: 2000, profile: 'sdk', expectAbi, jobs: JOBS });
      const b = performance.now() - t;
      t = performance.now();
      await battery();
      if (i > 0) pairs.push([b, performance.now() - t]); // the first pair warms up
    }
    console.log(`    interleaved with ${beforeRoot}: median ${(median(pairs.map((p) => p[0])) / 1000).toFixed(2)} s there, ${(median(pairs.map((p) => p[1])) / 1000).toFixed(2)} s here (${BATTERIES} pairs)`);
  }
  const events: ProfileEvent[] = [];
  process.env['PACKCHECK_PROFILE'] = '1'; // read by each worker thread as it starts
  const profiledStart = performance.now();
  await battery((e) => events.push(e));
  const profiledWall = performance.now() - profiledStart;
  delete process.env['PACKCHECK_PROFILE'];
  const props = events.filter((e) => e.what === 'property');
  const survey = events.find((e) => e.what === 'survey');
  const packOwnMs = [...props, ...(survey ? [survey] : [])].reduce((n, e) => n + e.phases.packMs + e.phases.instantiateMs, 0);
  console.log(`(b) battery at default settings (100 runs, seed 1, --jobs ${JOBS}), ${BATTERIES} runs: median ${median(walls).toFixed(2)} s wall (runs: ${walls.map((w) => w.toFixed(2)).join(', ')}; target <= 4 s); ${verdicts}`);
  console.log(`    the pack's own time inside it (the floor: its calls and instantiations, all workers): ${(packOwnMs / 1000).toFixed(2)} s, ${(packOwnMs / JOBS / 1000).toFixed(2)} s of wall time spread over ${JOBS} workers (profiled run: ${(profiledWall / 1000).toFixed(2)} s wall)`);
  if (PROFILE) printProfile(events, profiledWall);
}

/** `--profile`: the profiled battery, per phase and per property, longest first. */
function printProfile(es: ProfileEvent[], wallMs: number): void {
  const props = es.filter((e) => e.what === 'property');
  const survey = es.find((e) => e.what === 'survey');
  const ms = (x: number) => x.toFixed(0).padStart(7);
  const compile = es.find((e) => e.what === 'compile');
  const start = es.find((e) => e.what === 'worker-start');
  console.log(`    profile of one battery (${(wallMs / 1000).toFixed(2)} s wall, ${JOBS} workers), ms:`);
  console.log(`      compile (main thread) ${compile?.ms.toFixed(0)}, worker start (modules loaded) ${start?.ms.toFixed(0)}, survey ${survey?.phases.totalMs.toFixed(0)} (pack ${survey?.phases.packMs.toFixed(0)}, instantiate ${survey?.phases.instantiateMs.toFixed(0)})`);
  console.log(`      ${'property'.padEnd(28)}   total  generate  pack-calls  instantiate  checking  body-other  shrinking  round-trip  calls`);
  const sum = { total: 0, gen: 0, pack: 0, inst: 0, check: 0, other: 0, shrink: 0, trip: 0, calls: 0 };
  for (const e of props.sort((a, b) => b.phases.totalMs - a.phases.totalMs)) {
    const p = e.phases;
    // Generation: fast-check's own time (arbitraries, its loop) = the whole call minus the property bodies.
    const gen = p.totalMs - p.bodyMs;
    const other = p.bodyMs - p.packMs - p.checkMs - p.instantiateMs;
    const trip = e.roundTripMs - p.totalMs;
    Object.entries({ total: p.totalMs, gen, pack: p.packMs, inst: p.instantiateMs, check: p.checkMs, other, shrink: p.shrinkMs, trip, calls: p.packCalls }).forEach(([k, v]) => (sum[k as keyof typeof sum] += v));
    console.log(`      ${e.id.padEnd(28)} ${ms(p.totalMs)} ${ms(gen)}   ${ms(p.packMs)}     ${ms(p.instantiateMs)}   ${ms(p.checkMs)}    ${ms(other)}    ${ms(p.shrinkMs)}     ${ms(trip)}  ${String(p.packCalls).padStart(6)}`);
  }
  console.log(`      ${'all properties'.padEnd(28)} ${ms(sum.total)} ${ms(sum.gen)}   ${ms(sum.pack)}     ${ms(sum.inst)}   ${ms(sum.check)}    ${ms(sum.other)}    ${ms(sum.shrink)}     ${ms(sum.trip)}  ${String(sum.calls).padStart(6)}`);
  console.log('      (generate: fast-check generating inputs and running its loop; body-other: property bodies outside the pack and the host\'s checks, e.g. output validation; round-trip: messages to and from the worker, reporting, a new worker\'s start)');
}

// (d) Corpus throughput: 20 distinct small packs (the WAT reference, each
// with a global of its own, so no two are the same file), never checked
// before, in a fresh cache folder, through the CLI with --jobs 2 (100 runs).
// PACKCHECK_BENCH_CORPUS_BIN may name another packcheck bin (an older checkout's).
if (PARTS.includes('d')) {
  const CORPUS_PACKS = 20;
  const corpusDir = mkdtempSync(join(tmpdir(), 'packcheck-bench-corpus-'));
  for (let i = 0; i < CORPUS_PACKS; i++) {
    const abiVersionFn = '  (func $abi_version (export "reflow_pack_abi_version") (result i32)';
    const distinct: Patch = [abiVersionFn, `  (global $bench_pack_${i} i32 (i32.const ${i}))\n${abiVersionFn}`];
    copyFileSync(await buildWat(WAT_REFERENCE, `bench-corpus-${i}`, [distinct]), join(corpusDir, `pack-${String(i).padStart(2, '0')}.wasm`));
  }
  const corpusBin = process.env.PACKCHECK_BENCH_CORPUS_BIN ?? (existsSync(join(import.meta.dirname, '..', 'dist', 'bin', 'packcheck.js')) ? join(import.meta.dirname, '..', 'dist', 'bin', 'packcheck.js') : join(import.meta.dirname, '..', 'bin', 'packcheck.js'));
  const corpusStart = performance.now();
  const corpusRun = spawnSync(process.execPath, [corpusBin, corpusDir, '--jobs', '2', '--quiet', '--json', join(corpusDir, 'report.json'), '--seed', '1'], { env: { ...process.env, PACKCHECK_CACHE_DIR: join(corpusDir, 'cache') } });
  const corpusMin = (performance.now() - corpusStart) / 60_000;
  const corpusReport = existsSync(join(corpusDir, 'report.json')) ? (JSON.parse(readFileSync(join(corpusDir, 'report.json'), 'utf8')) as { summary: { packs: number; failed: number } }) : null;
  console.log(`(d) corpus of ${CORPUS_PACKS} distinct small packs, --jobs 2, cold (${corpusBin.includes('dist') ? 'built JavaScript' : 'sources through tsx'}): ${(CORPUS_PACKS / corpusMin).toFixed(1)} packs/minute (${(corpusMin * 60).toFixed(1)} s; target >= 36); exit ${corpusRun.status}, ${corpusReport ? `${corpusReport.summary.packs} packs, ${corpusReport.summary.failed} failed` : 'no report'}`);
  rmSync(corpusDir, { recursive: true, force: true });
}

// (c) Start-up: alternated runs of the same command line, one process each.
// The sources go through tsx (bin/packcheck.js registers it when there is no
// compiled CLI next to it); PACKCHECK_BENCH_SOURCE_BIN may name another
// packcheck bin to compare with (an older checkout's).
const ROOT = join(import.meta.dirname, '..');
const sourceBin = process.env.PACKCHECK_BENCH_SOURCE_BIN ?? join(ROOT, 'bin', 'packcheck.js');
const builtBin = join(ROOT, 'dist', 'bin', 'packcheck.js');
const STARTS = 11;
const timeStart = (bin: string, flag: string) => {
  const t = performance.now();
  execFileSync(process.execPath, [bin, flag], { stdio: 'ignore' });
  return performance.now() - t;
};
if (!PARTS.includes('c')) {
  // not asked for
} else if (!existsSync(builtBin)) console.log(`(c) start-up: not measured, ${builtBin} is missing (npm run build)`);
else {
  console.log(`(c) start-up, ${STARTS} alternated runs each (the first of each is warm-up), medians:`);
  for (const flag of ['--version', '--help']) {
    const src: number[] = [];
    const built: number[] = [];
    for (let i = 0; i < STARTS + 1; i++) {
      const a = timeStart(sourceBin, flag);
      const b = timeStart(builtBin, flag);
      if (i === 0) continue;
      src.push(a);
      built.push(b);
    }
    const s = median(src);
    const b = median(built);
    console.log(`    packcheck ${flag}: sources through tsx ${s.toFixed(0)} ms, built JavaScript ${b.toFixed(0)} ms, built/sources ${(b / s).toFixed(2)} (issue 14's target, under a third of the CLI before lazy subcommands, is measured against that commit: BENCHMARKS.md (c))`);
  }
}
await import('./fuzz.ts'); // the fuzzing figures (bench/fuzz.ts, issue #10)
