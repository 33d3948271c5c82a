// The write barrier (harness/hosts/wasm/write-barrier.ts): every kind of
// write into the watched hull is recorded with its exact range, writes just
// outside are not, what the rewriter cannot classify is refused (and the
// host then verifies everything), and an instrumented pack answers every
// call exactly as the original does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addWriteBarrier, barrierControl, compileWriteBarrier, hullWindow, type BarrierControl, type WriteBarrier } from '../harness/hosts/wasm/write-barrier.ts';
import { CheckedWasmHost, type Tick } from '../harness/hosts/wasm/wasm-host.ts';
import { CallGuard } from '../harness/kernel/call-guard.ts';
import type { Block } from '../harness/hosts/wasm/ledger.ts';
import { buildMutant, buildRust, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';
import { rustc } from './support/check.ts';

async function wat(text: string, features: Record<string, boolean> = {}): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const mod = wabt.parseWat('t.wat', text, features);
  try {
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

const ALL_FEATURES = { simd: true, threads: true, bulk_memory: true };

// One export per kind of write: (address, value) or (dest, x, size).
const WRITERS = `(module
  (memory (export "memory") 1)
  (data $seg "0123456789abcdefghij")
  (func (export "i32_store8") (param $a i32) (param $v i32) (i32.store8 (local.get $a) (local.get $v)))
  (func (export "i32_store16") (param $a i32) (param $v i32) (i32.store16 (local.get $a) (local.get $v)))
  (func (export "i32_store") (param $a i32) (param $v i32) (i32.store (local.get $a) (local.get $v)))
  (func (export "i32_store_off8") (param $a i32) (param $v i32) (i32.store offset=8 (local.get $a) (local.get $v)))
  (func (export "i64_store") (param $a i32) (param $v i32) (i64.store (local.get $a) (i64.extend_i32_u (local.get $v))))
  (func (export "i64_store8") (param $a i32) (param $v i32) (i64.store8 (local.get $a) (i64.extend_i32_u (local.get $v))))
  (func (export "i64_store16") (param $a i32) (param $v i32) (i64.store16 (local.get $a) (i64.extend_i32_u (local.get $v))))
  (func (export "i64_store32") (param $a i32) (param $v i32) (i64.store32 (local.get $a) (i64.extend_i32_u (local.get $v))))
  (func (export "f32_store") (param $a i32) (param $v i32) (f32.store (local.get $a) (f32.reinterpret_i32 (local.get $v))))
  (func (export "f64_store") (param $a i32) (param $v i32) (f64.store (local.get $a) (f64.reinterpret_i64 (i64.extend_i32_u (local.get $v)))))
  (func (export "v128_store") (param $a i32) (param $v i32) (v128.store (local.get $a) (i32x4.splat (local.get $v))))
  (func (export "v128_store8_lane") (param $a i32) (param $v i32) (v128.store8_lane 3 (local.get $a) (i32x4.splat (local.get $v))))
  (func (export "v128_store64_lane") (param $a i32) (param $v i32) (v128.store64_lane 1 (local.get $a) (i32x4.splat (local.get $v))))
  (func (export "atomic_store") (param $a i32) (param $v i32) (i32.atomic.store (local.get $a) (local.get $v)))
  (func (export "atomic_store8") (param $a i32) (param $v i32) (i64.atomic.store8 (local.get $a) (i64.extend_i32_u (local.get $v))))
  (func (export "atomic_rmw_add") (param $a i32) (param $v i32) (drop (i32.atomic.rmw.add (local.get $a) (local.get $v))))
  (func (export "atomic_rmw16_xchg") (param $a i32) (param $v i32) (drop (i64.atomic.rmw16.xchg_u (local.get $a) (i64.extend_i32_u (local.get $v)))))
  (func (export "atomic_cmpxchg") (param $a i32) (param $v i32)
    (drop (i64.atomic.rmw.cmpxchg (local.get $a) (i64.load (local.get $a)) (i64.extend_i32_u (local.get $v)))))
  (func (export "fill") (param $d i32) (param $v i32) (param $n i32) (memory.fill (local.get $d) (local.get $v) (local.get $n)))
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32) (memory.copy (local.get $d) (local.get $s) (local.get $n)))
  (func (export "init") (param $d i32) (param $s i32) (param $n i32) (memory.init $seg (local.get $d) (local.get $s) (local.get $n)))
  (func (export "load_sum") (param $a i32) (result i32) (i32.add (i32.load8_u (local.get $a)) (i32.load offset=4 (local.get $a))))
)`;

/** Store exports and the bytes each writes. */
const STORES: [string, number][] = [
  ['i32_store8', 1],
  ['i32_store16', 2],
  ['i32_store', 4],
  ['i64_store', 8],
  ['i64_store8', 1],
  ['i64_store16', 2],
  ['i64_store32', 4],
  ['f32_store', 4],
  ['f64_store', 8],
  ['v128_store', 16],
  ['v128_store8_lane', 1],
  ['v128_store64_lane', 8],
  ['atomic_store', 4],
  ['atomic_store8', 1],
  ['atomic_rmw_add', 4],
  ['atomic_rmw16_xchg', 2],
  ['atomic_cmpxchg', 8],
];

type Fn = (...a: number[]) => number;
interface Writers {
  ex: Record<string, Fn> & { memory: WebAssembly.Memory };
  control: BarrierControl;
}

async function writers(): Promise<{ original: Uint8Array; make(): Writers }> {
  const original = await wat(WRITERS, ALL_FEATURES);
  const r = addWriteBarrier(original);
  if ('refused' in r) throw new Error(r.refused);
  const module = new WebAssembly.Module(r.bytes as Uint8Array<ArrayBuffer>);
  return {
    original,
    make() {
      const instance = new WebAssembly.Instance(module, {});
      return { ex: instance.exports as Writers['ex'], control: barrierControl(instance) };
    },
  };
}

/** The held block [1024, 1056): 32 bytes, 8-aligned as the ABI's blocks are. */
const BLOCK = { lo: 1024, last: 1055 };

function watch(c: BarrierControl, lo = BLOCK.lo, last = BLOCK.last): void {
  const w = hullWindow(lo, last)!;
  c.hull(w.lo, w.span);
  c.reset();
}

/** The written range the barrier recorded, or null. */
function written(c: BarrierControl): [number, number] | null {
  if (c.hit() === 0) return null;
  return [c.first() >>> 0, c.last() >>> 0];
}

describe('the write barrier records every write into the hull', () => {
  it('counts every write site of the test module', async () => {
    const { original } = await writers();
    const r = addWriteBarrier(original);
    expect('refused' in r ? r.refused : r.writeSites).toBe(STORES.length + 4); // and i32_store_off8; fill, copy, init
  });

  it('i32.store8 at the last byte of a held block', async () => {
    const { make } = await writers();
    const { ex, control } = make();
    watch(control);
    ex.i32_store8!(BLOCK.last, 0x5a);
    expect(written(control)).toEqual([BLOCK.last, BLOCK.last]);
    expect(new Uint8Array(ex.memory.buffer)[BLOCK.last]).toBe(0x5a);
  });

  it('i64.store straddling the block start', async () => {
    const { make } = await writers();
    const { ex, control } = make();
    watch(control);
    ex.i64_store!(BLOCK.lo - 4, 0x01020304);
    expect(written(control)).toEqual([BLOCK.lo - 4, BLOCK.lo + 3]);
  });

  it('a store with a memarg offset is recorded where it lands, not at its base address', async () => {
    const { make } = await writers();
    const { ex, control } = make();
    watch(control);
    ex.i32_store_off8!(BLOCK.last + 1 - 8 - 4, 7); // lands on the last 4 bytes
    expect(written(control)).toEqual([BLOCK.last - 3, BLOCK.last]);
    control.reset();
    ex.i32_store_off8!(BLOCK.last + 1 - 8, 7); // lands just past the block
    expect(written(control)).toBeNull();
  });

  for (const [name, width] of STORES) {
    it(`${name} (${width} bytes) into the block, and just past it`, async () => {
      const { make } = await writers();
      const { ex, control } = make();
      watch(control);
      ex[name]!(BLOCK.lo + 8, 0x11223344);
      expect(written(control)).toEqual([BLOCK.lo + 8, BLOCK.lo + 8 + width - 1]);
      control.reset();
      ex[name]!(BLOCK.last + 1, 0x11223344);
      expect(written(control)).toBeNull();
    });
  }

  it('memory.fill, memory.copy and memory.init into the block, exact ranges', async () => {
    const { make } = await writers();
    const { ex, control } = make();
    watch(control);
    ex.fill!(BLOCK.lo + 10, 0xee, 6);
    expect(written(control)).toEqual([BLOCK.lo + 10, BLOCK.lo + 15]);
    control.reset();
    ex.copy!(BLOCK.lo - 3, 0, 4); // straddles the start by one byte
    expect(written(control)).toEqual([BLOCK.lo - 3, BLOCK.lo]);
    control.reset();
    ex.init!(BLOCK.last - 1, 0, 2);
    expect(written(control)).toEqual([BLOCK.last - 1, BLOCK.last]);
    expect(new TextDecoder().decode(new Uint8Array(ex.memory.buffer, BLOCK.last - 1, 2))).toBe('01');
  });

  it('bulk writes just past the block, and of zero bytes, are not recorded; just before it, the range misses it', async () => {
    const { make } = await writers();
    const { ex, control } = make();
    watch(control);
    ex.copy!(BLOCK.last + 1, 0, 64);
    ex.fill!(BLOCK.lo + 4, 1, 0);
    ex.fill!(BLOCK.lo - 100, 1, 80); // ends below the window's margin
    expect(written(control)).toBeNull();
    ex.init!(BLOCK.lo - 20, 0, 20); // ends at lo - 1, inside the margin: the exact range is recorded
    expect(written(control)).toEqual([BLOCK.lo - 20, BLOCK.lo - 1]);
  });

  it('a store just below the block may wake the barrier, but its recorded range misses the block', async () => {
    const { make } = await writers();
    const { ex, control } = make();
    watch(control);
    ex.i64_store!(BLOCK.lo - 8, 1); // bytes lo-8 .. lo-1: inside the 15-byte margin of the window
    const w = written(control);
    expect(w === null || w[1] < BLOCK.lo).toBe(true);
    control.reset();
    ex.i64_store!(BLOCK.lo - 16, 1); // below the window altogether
    expect(written(control)).toBeNull();
  });

  it('the written range widens over several writes, and an empty window records nothing', async () => {
    const { make } = await writers();
    const { ex, control } = make();
    watch(control);
    ex.i32_store8!(BLOCK.lo + 20, 1);
    ex.i32_store8!(BLOCK.lo + 2, 1);
    ex.i32_store8!(BLOCK.lo + 9, 1);
    expect(written(control)).toEqual([BLOCK.lo + 2, BLOCK.lo + 20]);
    control.hull(-1, 0);
    control.reset();
    for (const [name] of STORES) ex[name]!(0, 1);
    ex.fill!(0, 1, 65536);
    expect(written(control)).toBeNull();
  });

  it('the instrumented module computes and stores exactly what the original does', async () => {
    const { original, make } = await writers();
    const plain = new WebAssembly.Instance(new WebAssembly.Module(original as Uint8Array<ArrayBuffer>), {}).exports as Writers['ex'];
    const { ex, control } = make();
    watch(control, 0, 4095);
    let addr = 0;
    for (const [name] of STORES) {
      for (const e of [plain, ex]) e[name]!(addr, 0x9abc0000 + addr);
      addr += 16; // atomics must be aligned
    }
    for (const e of [plain, ex]) {
      e.fill!(600, 0x42, 40);
      e.copy!(700, 3, 50);
      e.init!(800, 2, 15);
    }
    expect(Buffer.from(new Uint8Array(ex.memory.buffer)).equals(Buffer.from(new Uint8Array(plain.memory.buffer)))).toBe(true);
    for (let a = 0; a < 400; a += 13) expect(ex.load_sum!(a)).toBe(plain.load_sum!(a));
    // Traps stay traps, with the same message.
    const trap = (e: Writers['ex']) => {
      try {
        e.i64_store!(65536 - 4, 1);
        return 'no trap';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(trap(ex)).toBe(trap(plain));
    expect(trap(ex)).toMatch(/out of bounds/);
  });
});

describe('what the rewriter cannot classify is refused', () => {
  const refusal = (bytes: Uint8Array) => {
    const r = addWriteBarrier(bytes);
    return 'refused' in r ? r.refused : null;
  };

  it('not a module, no memory, the barrier\'s export names taken', async () => {
    expect(refusal(new TextEncoder().encode('not wasm at all'))).toMatch(/not a version-1 WebAssembly binary/);
    expect(refusal(await wat('(module (func (export "f")))'))).toMatch(/no memory/);
    expect(refusal(await wat('(module (memory (export "memory") 1) (func (export "__packcheck_barrier_hit")))'))).toMatch(/already exports "__packcheck_barrier_hit"/);
  });

  it('two memories and a 64-bit memory', async () => {
    expect(refusal(await wat('(module (memory 1) (memory 1) (func))', { multi_memory: true }))).toMatch(/more than one memory/);
    expect(refusal(await wat('(module (memory i64 1) (func))', { memory64: true }))).toMatch(/64-bit memory/);
  });

  it('an instruction it does not know (exception handling) names the function and byte', async () => {
    const bytes = await wat('(module (memory 1) (tag $e) (func (export "f") (try (do (throw $e)) (catch_all))))', { exceptions: true });
    expect(refusal(bytes)).toMatch(/tag section|opcode 0x6/);
    // The same opcode without a tag section: the code walk itself refuses it.
    const noTag = await wat('(module (memory 1) (func (export "f") (try (do nop) (catch_all))))', { exceptions: true });
    expect(refusal(noTag)).toMatch(/function 0 has opcode 0x6 at byte \d+, which the write barrier does not classify/);
  });

  it('a refused pack keeps full verification: compileWriteBarrier says why, the host verifies every block', async () => {
    const r = await compileWriteBarrier(await wat('(module (func))'));
    expect(r).toEqual({ refused: 'the module has no memory' });
  });
});

// The packs: the same calls through the original module and the instrumented
// one, compared call by call (statuses, slots, result bytes, findings).
const PACKS: { name: string; build: () => Promise<string | null> }[] = [
  { name: 'wat-reference', build: () => buildWat(WAT_REFERENCE, 'wat-reference') },
  { name: 'rust-reference', build: async () => (rustc ? buildRust(rustc, 'rust-reference') : null) },
  ...['wat-scribble-random-held', 'rust-payload-scribble', 'rust-result-in-payload', 'rust-alloc-overlap', 'wat-run-traps', 'rust-destroy-leaks'].map((n) => ({
    name: n,
    build: async () => {
      const spec = MUTANTS.find((m) => m.name === n)!;
      return spec.source === 'rust' && !rustc ? null : buildMutant(spec, rustc);
    },
  })),
];

const enc = (s: string) => new TextEncoder().encode(s);
const PAYLOADS = [
  enc('{"input":{"in":{"type":"Integer","data":42}}}'),
  enc('{"input":{"in":{"type":"String","data":"héllo wörld"},"cfg":{"type":"Bytes","data":[1,2,3,250]}}}'),
  new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
  enc('{"input":'),
  enc(''),
  enc(JSON.stringify({ input: { in: { type: 'String', data: 'x'.repeat(70_000) } } })),
];

/** Every call of a fixed script, as data: what it returned or how it trapped. */
function script(module: WebAssembly.Module, barrier: WriteBarrier | null): unknown[] {
  const seen: unknown[] = [];
  const host = CheckedWasmHost.instantiate(module, { guard: new CallGuard(null, 5000), barrier });
  const step = (what: string, f: () => unknown) => {
    try {
      seen.push([what, f()]);
    } catch (e) {
      seen.push([what, 'threw', (e as Error).name, (e as Error).message]);
    }
  };
  const tick = (t: Tick) => ({ ...t, payload: t.payload.length, result: t.result && Buffer.from(t.result).toString('hex') });
  step('abi', () => host.abiVersion());
  step('register', () => host.register());
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) step('create', () => ids[ids.push(host.create(0)) - 1]);
  for (let round = 0; round < 4; round++) {
    for (const p of PAYLOADS) step('run', () => tick(host.run(ids[round % ids.length] ?? 1, p)));
    const held: Block[] = [];
    for (const size of [24, 4096]) {
      step('alloc', () => {
        const b = host.alloc(size, 'held');
        if (b) held.push(b);
        return b && [b.ptr, b.size];
      });
    }
    for (const p of PAYLOADS.slice(0, 2)) step('run while holding', () => tick(host.run(ids[0] ?? 1, p)));
    for (const b of held) step('free', () => host.free(b));
  }
  step('run unknown', () => tick(host.run(999, PAYLOADS[0]!)));
  for (const id of ids) step('destroy', () => host.destroy(id));
  seen.push(['ledger', host.ledger.findings, host.ledger.registrations, [...host.ledger.liveInstances], host.ledger.calls, host.ledger.allocations, host.memBytes]);
  return seen;
}

describe('an instrumented pack answers exactly as the original', () => {
  for (const p of PACKS) {
    it(p.name, async () => {
      const path = await p.build();
      if (!path) return expect(rustc).toBeNull(); // a Rust pack without rustc: nothing to compare
      const bytes = readFileSync(path);
      const module = new WebAssembly.Module(bytes);
      const barrier = await compileWriteBarrier(bytes);
      if ('refused' in barrier) throw new Error(`refused: ${barrier.refused}`);
      expect(barrier.writeSites).toBeGreaterThan(0);
      const plain = script(module, null);
      const barred = script(module, barrier);
      expect(barred).toEqual(plain);
      // The scribbling mutants: the barrier saw what full verification saw, and that is something.
      if (p.name.includes('scribble') || p.name.includes('result-in-payload')) {
        const ledger = plain.at(-1) as [string, { kind: string }[]];
        expect(ledger[1].some((f) => f.kind === 'integrity')).toBe(true);
      }
    });
  }
});

// A pack whose run writes where the payload's first byte says: '0' the last
// payload byte (i32.store8), '1' the byte just past the block, '2' an
// i64.store straddling the block's start, '3' memory.fill into it, '4'
// memory.copy into it, '5' nothing. The result is always "ok".
const POKER = `(module
  (import "env" "__reflow_pack_register_template" (func $reg (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 4096) "ok")
  (global $bump (mut i32) (i32.const 8192))
  (func (export "reflow_pack_abi_version") (result i32) i32.const 1)
  (func (export "__reflow_pack_register") (result i32) i32.const 0)
  (func (export "__reflow_pack_alloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 15)) (i32.const -8)))
    (local.get $p))
  (func (export "__reflow_pack_free") (param i32 i32))
  (func (export "__reflow_pack_create_actor") (param i32) (result i32) i32.const 1)
  (func (export "__reflow_pack_destroy_actor") (param i32))
  (func (export "__reflow_pack_actor_run") (param $i i32) (param $p i32) (param $len i32) (param $op i32) (param $ol i32) (result i32)
    (local.set $i (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
    (if (i32.eq (local.get $i) (i32.const 0)) (then (i32.store8 (i32.sub (i32.add (local.get $p) (local.get $len)) (i32.const 1)) (i32.const 33))))
    (if (i32.eq (local.get $i) (i32.const 1)) (then (i32.store8 (i32.add (local.get $p) (local.get $len)) (i32.const 33))))
    (if (i32.eq (local.get $i) (i32.const 2)) (then (i64.store (i32.sub (local.get $p) (i32.const 4)) (i64.const -1))))
    (if (i32.eq (local.get $i) (i32.const 3)) (then (memory.fill (i32.add (local.get $p) (i32.const 2)) (i32.const 33) (i32.const 3))))
    (if (i32.eq (local.get $i) (i32.const 4)) (then (memory.copy (i32.add (local.get $p) (i32.const 5)) (i32.const 4096) (i32.const 2))))
    (i32.store (local.get $op) (i32.const 4096))
    (i32.store (local.get $ol) (i32.const 2))
    i32.const 0)
)`;

describe('the checked host with the barrier', () => {
  it('finds each write into the payload block as full verification does, and nothing for a write just past it', async () => {
    const bytes = await wat(POKER);
    const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const barrier = await compileWriteBarrier(bytes);
    if ('refused' in barrier) throw new Error(barrier.refused);
    const findings = (b: WriteBarrier | null) => {
      const host = CheckedWasmHost.instantiate(module, { barrier: b });
      return ['0abcdefg', '1abcdefg', '2abcdefg', '3abcdefg', '4abcdefg', '5abcdefg'].map((p) => {
        const before = host.ledger.findings.length;
        const t = host.run(1, enc(p));
        expect(t.status).toBe(0);
        return host.ledger.findings.slice(before).map((f) => f.detail.replace(/\[\d+, \d+\)/, '[block)'));
      });
    };
    const barred = findings(barrier);
    expect(barred).toEqual([
      ['the payload block [block) changed at offset 7: byte 0x67 became 0x21'],
      [],
      ['the payload block [block) changed at offset 0: byte 0x32 became 0xff'],
      ['the payload block [block) changed at offset 2: byte 0x62 became 0x21'],
      ['the payload block [block) changed at offset 5: byte 0x65 became 0x6f'],
      [],
    ]);
    expect(barred).toEqual(findings(null));
  });

  it('a module with neither globals nor exports gets both sections, and only the barrier\'s exports', async () => {
    const r = addWriteBarrier(await wat('(module (memory 1) (func (i32.store (i32.const 0) (i32.const 1))))'));
    if ('refused' in r) throw new Error(r.refused);
    const m = new WebAssembly.Module(r.bytes as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.exports(m).map((e) => e.name)).toEqual(['__packcheck_barrier_hull', '__packcheck_barrier_hit', '__packcheck_barrier_first', '__packcheck_barrier_last', '__packcheck_barrier_reset']);
    expect(r.writeSites).toBe(1);
  });

  it('a window of all 4 GiB cannot be said in an i32: the host is told so', () => {
    expect(hullWindow(5, 4)).toBeNull();
    expect(hullWindow(100, 199)).toEqual({ lo: 85, span: 115 });
    expect(hullWindow(4, 10)).toEqual({ lo: 0, span: 11 });
    expect(hullWindow(0, 0xffffffff)!.span).toBeGreaterThan(0xffffffff);
  });
});
