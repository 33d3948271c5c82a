// `npm run bench`: (a) ticks per second through the fully checked host versus
// a bare loop doing only ABI.md's tick sequence, side by side in one run;
// (b) the battery's wall time at default settings. Figures, not assertions.
import { availableParallelism } from 'node:os';
import { readPack } from '../harness/pack-file.ts';
import { CallGuard, newGuardBuffer } from '../harness/call-guard.ts';
import { CheckedWasmHost } from '../harness/wasm-host.ts';
import { checkWasmPack } from '../harness/runner.ts';
import { buildRust, buildWat, findRustc, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { importsFor } from '../mocks/stub-imports.ts';

const rustc = findRustc();
const packPath = 'missing' in rustc ? await buildWat(WAT_REFERENCE, 'wat-reference') : buildRust(rustc, 'rust-reference');
const packName = 'missing' in rustc ? `WAT reference pack (Rust reference not built: ${rustc.missing})` : 'Rust reference pack';
const bytes = (await readPack(packPath)).bytes;
const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
const payload = new TextEncoder().encode('{"input":{"in":{"type":"Integer","data":42}}}');
const TICKS = 50_000;

function checkedLoop(): number {
  const host = CheckedWasmHost.instantiate(module, { guard: new CallGuard(newGuardBuffer(), 2000) });
  host.register();
  const id = host.create(0);
  const t0 = performance.now();
  for (let i = 0; i < TICKS; i++) if (host.run(id, payload).status !== 0) throw new Error('checked tick failed');
  return TICKS / ((performance.now() - t0) / 1000);
}

/** ABI.md's tick sequence and nothing else: no guard, ledger, canaries or bounds checks. */
function bareLoop(): number {
  const inst = new WebAssembly.Instance(module, importsFor(module, () => {}));
  const ex = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
  ex.__reflow_pack_register!();
  const id = ex.__reflow_pack_create_actor!(0);
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
  return TICKS / ((performance.now() - t0) / 1000);
}

console.log(`packcheck bench on the ${packName}, node ${process.version}, ${availableParallelism()} cores`);
// Interleaved rounds, best of each: warms both paths up and evens out noise.
const bare: number[] = [];
const checked: number[] = [];
for (let round = 0; round < 4; round++) {
  bare.push(bareLoop());
  checked.push(checkedLoop());
}
const b = Math.max(...bare.slice(1));
const c = Math.max(...checked.slice(1));
console.log(`(a) ticks/s, ${TICKS} ticks per round, best of 3 after a warm-up round:`);
console.log(`    bare ABI tick loop:   ${b.toFixed(0)} ticks/s`);
console.log(`    fully checked host:   ${c.toFixed(0)} ticks/s`);
console.log(`    checked/bare time ratio: ${(b / c).toFixed(2)} (target <= 1.5)`);

const t0 = performance.now();
const rep = await checkWasmPack(await readPack(packPath), { seed: 1, runs: 100, timeoutMs: 2000, profile: 'sdk', expectAbi: null, jobs: Math.min(4, availableParallelism()) });
const wall = (performance.now() - t0) / 1000;
console.log(`(b) battery at default settings (100 runs, seed 1): ${wall.toFixed(1)} s wall (target <= 20 s); ${rep.summary.passed} passed, ${rep.summary.failed} failed, ${rep.summary.skipped} skipped`);
