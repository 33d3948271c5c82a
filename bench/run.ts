// `npm run bench`: (a) ticks per second through the fully checked host versus
// a bare loop doing only ABI.md's tick sequence, side by side in one run;
// (b) the battery's wall time at default settings; (c) `packcheck --version`
// and `--help` start-up time, the sources through tsx against the built
// JavaScript (dist/, `npm run build`). Figures, not assertions.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readPack } from '../harness/run/pack-file.ts';
import { CallGuard, newGuardBuffer } from '../harness/kernel/call-guard.ts';
import { CheckedWasmHost } from '../harness/hosts/wasm/wasm-host.ts';
import { checkWasmPack } from '../harness/run/wasm-runner.ts';
import { buildRust, buildWat, findRustc, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { importsFor } from '../harness/hosts/wasm/stub-imports.ts';
import { WAT_REFERENCE_ABI } from '../packs-under-test/reference.ts';

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

/** Ticks of the fully checked host: guard, ledger, bounds, block verification after every call, slot sentinels, result bounds. */
function checkedRounds(payload: Uint8Array): () => number {
  const host = CheckedWasmHost.instantiate(module, { guard: new CallGuard(newGuardBuffer(), 2000) });
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`packcheck bench on the ${packName}, node ${process.version}, ${availableParallelism()} cores`);
console.log(`(a) __reflow_pack_actor_run ticks through the checked host vs a bare ABI loop: ${ROUNDS} interleaved rounds of ${TICKS} ticks each (the first 5 are warm-up), medians:`);
for (const [name, payload] of Object.entries(PAYLOADS)) {
  const bare = bareRounds(payload);
  const checked = checkedRounds(payload);
  const ratios: number[] = [];
  const bareMs: number[] = [];
  const checkedMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const b = bare();
    const c = checked();
    if (r < 5) continue;
    bareMs.push(b);
    checkedMs.push(c);
    ratios.push(c / b);
  }
  const perSec = (ms: number) => ((TICKS / ms) * 1000).toFixed(0);
  console.log(`    payload ${name}: bare ${perSec(median(bareMs))} ticks/s, checked ${perSec(median(checkedMs))} ticks/s, checked/bare time ratio ${median(ratios).toFixed(2)} (target <= 1.5)`);
}

const t0 = performance.now();
const expectAbi = 'missing' in rustc ? WAT_REFERENCE_ABI : rustc.abiVersion;
const rep = await checkWasmPack(await readPack(packPath), { seed: 1, runs: 100, timeoutMs: 2000, profile: 'sdk', expectAbi, jobs: Math.min(4, availableParallelism()) });
const wall = (performance.now() - t0) / 1000;
console.log(`(b) battery at default settings (100 runs, seed 1): ${wall.toFixed(1)} s wall (target <= 20 s); ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped`);

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
if (!existsSync(builtBin)) console.log(`(c) start-up: not measured, ${builtBin} is missing (npm run build)`);
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
    console.log(`    packcheck ${flag}: sources through tsx ${s.toFixed(0)} ms, built JavaScript ${b.toFixed(0)} ms, built/sources ${(b / s).toFixed(2)} (target < 0.33)`);
  }
}
await import('./fuzz.ts'); // the fuzzing figures (bench/fuzz.ts, issue #10)
