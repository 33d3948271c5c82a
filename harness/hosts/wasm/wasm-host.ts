// The checked reference host of the wasm ABI. Every call into the pack goes
// through `call()`: it marks the call for the watchdog, turns traps into
// PackTrap, re-reads memory afterwards (any call may grow it) and verifies
// that the blocks the host holds still hold what the host wrote: all of them,
// or, when the pack was loaded with a write barrier (write-barrier.ts), only
// those the call wrote into.
import { ALLOC_ALIGN, MIB, RunStatus, WASM_EXPORTS } from '../../abi/abi.ts';
import { CallGuard, GUARDED_CALLS, describeCall, type GuardedCall } from '../../kernel/call-guard.ts';
import { HarnessRefusal, PackTrap } from '../../abi/errors.ts';
import { Ledger, type Block } from './ledger.ts';
import { importsFor } from './stub-imports.ts';
import { PROFILING, phases } from './phase-clock.ts';
import { barrierControl, hullWindow, MAX_SPAN, type BarrierControl, type WriteBarrier } from './write-barrier.ts';

type Fn = (...args: number[]) => number | undefined;

interface PackExports {
  memory: WebAssembly.Memory;
  abiVersion: Fn;
  register: Fn;
  alloc: Fn;
  free: Fn;
  create: Fn;
  destroy: Fn;
  run: Fn;
}

export interface HostOptions {
  guard?: CallGuard;
  /** Verify host-held blocks after every call (wasm.alloc.integrity relies on it). */
  watchBlocks?: boolean;
  /**
   * Fuzzing only (harness/fuzz): imports an instrumented module adds beside
   * the pack's own, and a look at the instance (its counter globals). Unset,
   * the host is exactly the checked host the battery uses.
   */
  instrumentation?: { imports: WebAssembly.Imports; onInstance(instance: WebAssembly.Instance): void };
  /**
   * The same pack rewritten with a write barrier (compileWriteBarrier of its
   * bytes): the host instantiates it instead of `module` and, after each
   * call, verifies only the held blocks the call wrote into. Used only when
   * blocks are watched; not with `instrumentation` (that is another module).
   */
  barrier?: WriteBarrier | null;
}

/** What one tick (`__reflow_pack_actor_run` and its bookkeeping) saw. */
export interface Tick {
  instance: number;
  payload: Uint8Array;
  /** Set when the host could not get its blocks: the run did not happen. */
  allocFailed?: 'payload' | 'slots';
  payloadPtr: number;
  slotPtr: number;
  status: number;
  outPtr: number;
  outLen: number;
  /** `out_ptr + max(out_len, 1) <= memory size` (no u32 wrap-around). */
  resultInBounds: boolean;
  /** A copy of the result bytes, or null (no result, or out of bounds). */
  result: Uint8Array | null;
  /** The host-held block the result overlaps, if any. */
  resultOverlaps: Block | null;
  memBytesAfter: number;
}

const idx = (n: GuardedCall) => GUARDED_CALLS.indexOf(n);
/** Guarded call indexes, resolved once. */
const C = {
  instantiate: idx('instantiate'),
  abiVersion: idx('reflow_pack_abi_version'),
  register: idx('__reflow_pack_register'),
  alloc: idx('__reflow_pack_alloc'),
  free: idx('__reflow_pack_free'),
  create: idx('__reflow_pack_create_actor'),
  destroy: idx('__reflow_pack_destroy_actor'),
  run: idx('__reflow_pack_actor_run'),
};

function callText(name: number, argc: number, ...args: number[]): string {
  return describeCall(GUARDED_CALLS[name]!, args.slice(0, argc).map((a) => a >>> 0));
}

export class CheckedWasmHost {
  private readonly ex: PackExports;
  private readonly guard: CallGuard;
  private readonly watch: boolean;
  private view: Uint8Array;
  private readonly slotScratch = new Uint8Array(8);
  /** The write barrier's controls, or null: verify every held block after every call. */
  private readonly barrier: BarrierControl | null;
  /** The ledger's watchedVersion the barrier's hull was last set for. */
  private hullVersion = -1;
  /** The watched bytes span all of a 4 GiB memory: the barrier's window cannot say it, full verification instead. */
  private hullTooWide = false;
  /**
   * Bytes the host itself wrote over another held block (filling a block
   * alloc returned on top of it): the barrier sees only the pack's writes,
   * so the next call verifies these too, as full verification would.
   */
  private hostFirst = EVERYWHERE;
  private hostLast = 0;

  private constructor(
    instance: WebAssembly.Instance,
    readonly ledger: Ledger,
    guard: CallGuard,
    watch: boolean,
    barrier: boolean,
  ) {
    const e = instance.exports as Record<string, unknown>;
    const fn = (name: string): Fn => {
      const f = e[name];
      if (typeof f === 'function') return f as Fn;
      return () => {
        throw new HarnessRefusal(`the pack does not export the function "${name}"`);
      };
    };
    const memory = e[WASM_EXPORTS.memory];
    if (!(memory instanceof WebAssembly.Memory)) throw new HarnessRefusal('the pack does not export its memory as "memory"');
    this.ex = {
      memory,
      abiVersion: fn(WASM_EXPORTS.abiVersion),
      register: fn(WASM_EXPORTS.register),
      alloc: fn(WASM_EXPORTS.alloc),
      free: fn(WASM_EXPORTS.free),
      create: fn(WASM_EXPORTS.create),
      destroy: fn(WASM_EXPORTS.destroy),
      run: fn(WASM_EXPORTS.run),
    };
    this.guard = guard;
    this.watch = watch;
    this.view = new Uint8Array(memory.buffer);
    this.barrier = barrier ? barrierControl(instance) : null;
  }

  /** A fresh instance of the pack with its own ledger. Registration is not called. */
  static instantiate(module: WebAssembly.Module, opts: HostOptions = {}): CheckedWasmHost {
    const guard = opts.guard ?? new CallGuard(null, 2000);
    if (opts.barrier && opts.instrumentation) throw new Error('a write barrier and fuzz instrumentation are two different modules: pass one');
    const watch = opts.watchBlocks ?? true;
    // Unwatched, the barrier would only slow the pack down: the original module serves.
    const barrier = watch && opts.barrier ? opts.barrier : null;
    const target = barrier ? barrier.module : module;
    const ledger = new Ledger();
    let memory: WebAssembly.Memory | null = null;
    // Metadata bytes are copied at call time: the pack may reuse the buffer.
    const record = (ptr: number, len: number, factoryId: number) => {
      const p = ptr >>> 0;
      const n = len >>> 0;
      const mem = memory ? new Uint8Array(memory.buffer) : null;
      const bytes = mem && p + n <= mem.length ? mem.slice(p, p + n) : null;
      ledger.registrations.push({ index: ledger.registrations.length, ptr: p, len: n, factoryId: factoryId >>> 0, bytes });
    };
    guard.enter(C.instantiate, 0);
    const t0 = PROFILING ? performance.now() : 0;
    let instance: WebAssembly.Instance;
    try {
      const imports = importsFor(target, record);
      if (opts.instrumentation) Object.assign(imports, opts.instrumentation.imports);
      instance = new WebAssembly.Instance(target, imports);
    } catch (e) {
      throw new PackTrap('instantiating the module', e, 'instantiate');
    } finally {
      guard.leave();
      if (PROFILING) phases.instantiateMs += performance.now() - t0;
    }
    opts.instrumentation?.onInstance(instance);
    const host = new CheckedWasmHost(instance, ledger, guard, watch, barrier !== null);
    memory = host.ex.memory;
    return host;
  }

  /** The current memory. Growth detaches the old buffer (its views read as empty): then re-read it. */
  mem(): Uint8Array {
    if (this.view.byteLength === 0) this.view = new Uint8Array(this.ex.memory.buffer);
    return this.view;
  }

  get memBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /**
   * The hot path of every pack call: scalar arguments, no allocation, no
   * string building unless something went wrong.
   */
  private call(name: number, f: Fn, argc: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, extraBudgetMs = 0): number {
    const barrier = this.barrier;
    if (barrier !== null && this.hullVersion !== this.ledger.watchedVersion) this.setHull(barrier);
    this.guard.enter(name, argc, a0, a1, a2, a3, a4, extraBudgetMs);
    const t0 = PROFILING ? performance.now() : 0;
    let r: number | undefined;
    try {
      // Exact arity: V8 inlines a JS-to-wasm call only when the argument count matches.
      r = argc === 0 ? f() : argc === 1 ? f(a0) : argc === 2 ? f(a0, a1) : f(a0, a1, a2, a3, a4);
    } catch (e) {
      throw new PackTrap(callText(name, argc, a0, a1, a2, a3, a4), e, GUARDED_CALLS[name]);
    } finally {
      this.guard.leave();
    }
    const t1 = PROFILING ? performance.now() : 0;
    const mem = this.mem();
    const ledger = this.ledger;
    if (ledger.sampleEvery === 0) ledger.calls++;
    else ledger.sample(mem.length);
    if (barrier !== null) {
      // A write that touched the hull, in this call or in an earlier one that trapped before it got here.
      let first = this.hostFirst;
      let last = this.hostLast;
      if (barrier.hit() !== 0) {
        first = Math.min(first, barrier.first() >>> 0);
        last = Math.max(last, barrier.last() >>> 0);
        barrier.reset();
      }
      if (this.hullTooWide) this.verifyBlocks(mem, 0, EVERYWHERE, name, argc, a0, a1, a2, a3, a4);
      else if (first <= last) this.verifyBlocks(mem, first, last, name, argc, a0, a1, a2, a3, a4);
      this.hostFirst = EVERYWHERE;
      this.hostLast = 0;
    } else if (this.watch && ledger.blocks.length !== 0) this.verifyBlocks(mem, 0, EVERYWHERE, name, argc, a0, a1, a2, a3, a4);
    if (PROFILING) {
      phases.packMs += t1 - t0;
      phases.checkMs += performance.now() - t1;
      phases.packCalls++;
    }
    return r === undefined ? 0 : r;
  }

  /** The hull of the watched bytes: the barrier reports writes that touch it. Set only when the watched set changed. */
  private setHull(barrier: BarrierControl): void {
    const blocks = this.ledger.blocks;
    let lo = EVERYWHERE;
    let last = 0;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      const n = b.expected === null ? 0 : b.expected.length;
      if (n === 0) continue;
      if (b.ptr < lo) lo = b.ptr;
      if (b.ptr + n - 1 > last) last = b.ptr + n - 1;
    }
    this.hullVersion = this.ledger.watchedVersion;
    this.hullTooWide = false;
    const w = hullWindow(lo, last);
    if (w === null) return barrier.hull(-1, 0); // nothing watched: the empty window, which no write meets
    // A window of all 4 GiB does not fit the i32 span: verify everything while it lasts.
    if (w.span > MAX_SPAN) this.hullTooWide = true;
    barrier.hull(w.lo | 0, w.span | 0);
  }

  /** Verifies the watched blocks that meet the written bytes [first, last]. */
  private verifyBlocks(mem: Uint8Array, first: number, last: number, name: number, argc: number, a0: number, a1: number, a2: number, a3: number, a4: number): void {
    const blocks = this.ledger.blocks;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!; // an indexed loop: no iterator object on the hot path
      const want = b.expected;
      if (want === null || b.ptr > last || b.ptr + want.length <= first) continue;
      if (b.ptr + want.length > mem.length || sameBytes(mem, b.ptr, want)) continue;
      const got = mem.subarray(b.ptr, b.ptr + want.length);
      let at = 0;
      while (at < want.length && got[at] === want[at]) at++;
      this.ledger.note(
        'integrity',
        callText(name, argc, a0, a1, a2, a3, a4),
        `the ${b.label} block [${b.ptr}, ${b.ptr + b.size}) changed at offset ${at}: byte 0x${want[at]!.toString(16).padStart(2, '0')} became 0x${got[at]!.toString(16).padStart(2, '0')}`,
      );
      b.expected = got.slice(); // the same bytes watched: the hull stands
    }
  }

  abiVersion(): number {
    return this.call(C.abiVersion, this.ex.abiVersion, 0) >>> 0;
  }

  register(): number {
    return this.call(C.register, this.ex.register, 0) | 0;
  }

  /** Raw alloc: the pointer as u32, with no bookkeeping. */
  allocRaw(size: number): number {
    return this.call(C.alloc, this.ex.alloc, 1, size | 0, 0, 0, 0, 0, size / MIB) >>> 0;
  }

  /**
   * Allocates a host-held block and fills it (`fill` bytes, or a pattern), so
   * a later write by the pack shows. Returns null when alloc returned 0, and
   * throws HarnessRefusal when the block is unusable (outside memory).
   */
  alloc(size: number, label: string, fill?: Uint8Array): Block | null {
    const p = this.allocRaw(size);
    if (p === 0) return null;
    const n = size >>> 0;
    const mem = this.view; // refreshed by the call
    if (p % ALLOC_ALIGN !== 0 || p + n > mem.length) {
      this.ledger.note('alloc-bounds', `__reflow_pack_alloc(${n})`, `returned ${p}: ${p % ALLOC_ALIGN !== 0 ? 'not 8-aligned' : `the block ends at ${p + n}, past memory (${mem.length} bytes)`}`);
      if (p + n > mem.length) throw new HarnessRefusal(`__reflow_pack_alloc(${n}) returned ${p}, a block that ends at ${p + n}, past the end of memory (${mem.length} bytes)`, '__reflow_pack_alloc');
    }
    let expected: Uint8Array;
    if (fill && fill.length === n) {
      copyInto(mem, p, fill);
      expected = fill;
    } else if (fill) {
      mem.set(fill.subarray(0, n), p);
      expected = mem.slice(p, p + n);
    } else {
      expected = pattern(n, this.ledger.allocations + 1);
      mem.set(expected, p);
    }
    const overlap = this.ledger.overlapping(p, n);
    if (overlap) {
      this.hostFirst = Math.min(this.hostFirst, p);
      this.hostLast = Math.max(this.hostLast, p + n - 1);
      const detail = `returned [${p}, ${p + n}), which overlaps the host-held ${overlap.label} block [${overlap.ptr}, ${overlap.ptr + overlap.size}) from allocation #${overlap.seq}`;
      this.ledger.note('overlap', `__reflow_pack_alloc(${n})`, detail);
      // Two blocks in one place: nothing the pack does with them means anything. wasm.alloc.disjoint states it.
      const e = new HarnessRefusal(`__reflow_pack_alloc(${n})\n    returned: ${detail}\n    expected: a block overlapping no host-held block`, '__reflow_pack_alloc');
      e.owner = 'wasm.alloc.disjoint';
      throw e;
    }
    return this.ledger.addBlock(p, n, label, expected);
  }

  /** Frees a host-held block with its own size. It stops being host-held as the call starts. */
  free(block: Block): void {
    this.ledger.takeBlock(block);
    this.call(C.free, this.ex.free, 2, block.ptr | 0, block.size | 0);
  }

  freeRaw(ptr: number, size: number): void {
    this.call(C.free, this.ex.free, 2, ptr | 0, size | 0);
  }

  create(factoryId: number): number {
    const id = this.call(C.create, this.ex.create, 1, factoryId | 0) >>> 0;
    if (id !== 0) {
      this.ledger.deadInstances.delete(id);
      this.ledger.liveInstances.set(id, { factoryId: factoryId >>> 0 });
    }
    return id;
  }

  destroy(id: number): void {
    this.call(C.destroy, this.ex.destroy, 1, id | 0);
    if (this.ledger.liveInstances.delete(id >>> 0)) this.ledger.deadInstances.add(id >>> 0);
  }

  /**
   * One tick as ABI.md lays it out: payload block, slot block (pre-filled
   * with the sentinel), run, read the slots, copy the result, then free the
   * payload, the slots, and the result with `max(out_len, 1)` (only when it
   * is in bounds and overlaps no host-held block: then it is not a block of
   * the pack's).
   */
  run(instance: number, payload: Uint8Array): Tick {
    const tick: Tick = {
      instance: instance >>> 0,
      payload,
      payloadPtr: 0,
      slotPtr: 0,
      status: 0,
      outPtr: 0,
      outLen: 0,
      resultInBounds: false,
      result: null,
      resultOverlaps: null,
      memBytesAfter: 0,
    };
    const pb = this.alloc(payload.length || 1, 'payload', payload.length ? payload : ONE_ZERO);
    if (!pb) {
      tick.allocFailed = 'payload';
      return tick;
    }
    const sb = this.alloc(8, 'out-slot', SENTINEL_SLOTS);
    if (!sb) {
      this.free(pb);
      tick.allocFailed = 'slots';
      return tick;
    }
    tick.payloadPtr = pb.ptr;
    tick.slotPtr = sb.ptr;
    this.ledger.watch(sb, null); // the pack writes the two slots during the call
    tick.status =
      this.call(C.run, this.ex.run, 5, instance | 0, pb.ptr, payload.length, sb.ptr, sb.ptr + 4, payload.length / MIB) | 0;
    const mem = this.view; // refreshed by the call
    tick.outPtr = u32At(mem, sb.ptr);
    tick.outLen = u32At(mem, sb.ptr + 4);
    // What the pack wrote is now the host's; the slot block is freed within this tick, so one buffer serves.
    for (let i = 0; i < 8; i++) this.slotScratch[i] = mem[sb.ptr + i]!; // no subarray view: this is the hot path
    this.ledger.watch(sb, this.slotScratch);
    tick.memBytesAfter = mem.length;
    const span = Math.max(tick.outLen, 1);
    tick.resultInBounds = tick.outPtr !== 0 && tick.outPtr + span <= mem.length;
    if (tick.outPtr !== 0 && !tick.resultInBounds) {
      this.ledger.note('result-bounds', describeTickCall(tick), `the result [${tick.outPtr}, ${tick.outPtr + tick.outLen}) lies outside memory (${mem.length} bytes)`);
    }
    if (tick.resultInBounds) {
      tick.result = mem.slice(tick.outPtr, tick.outPtr + tick.outLen);
      tick.resultOverlaps = this.ledger.overlapping(tick.outPtr, span) ?? null;
      if (tick.resultOverlaps) {
        const o = tick.resultOverlaps;
        this.ledger.note('overlap', describeTickCall(tick), `the result [${tick.outPtr}, ${tick.outPtr + span}) overlaps the host-held ${o.label} block [${o.ptr}, ${o.ptr + o.size})`);
      }
      this.ledger.highestEnd = Math.max(this.ledger.highestEnd, tick.outPtr + span);
    }
    // The host's own blocks first: each later call then has fewer held blocks to verify.
    this.free(pb);
    this.free(sb);
    if (tick.resultInBounds && !tick.resultOverlaps) {
      try {
        this.freeRaw(tick.outPtr, span);
      } catch (e) {
        // PROPERTIES.md gives this free to wasm.run.output-owned ("free(out_ptr, max(out_len, 1)) does not trap").
        if (e instanceof PackTrap) e.owner = 'wasm.run.output-owned';
        throw e;
      }
    }
    return tick;
  }
}

const ONE_ZERO = new Uint8Array([0]);
/** The highest u32: a written range [0, EVERYWHERE] verifies every block. */
const EVERYWHERE = 0xffffffff;

/** TypedArray.set, without its call overhead for the few bytes of a slot block or a tiny payload. */
function copyInto(mem: Uint8Array, at: number, src: Uint8Array): void {
  if (src.length > 32) mem.set(src, at);
  else for (let i = 0; i < src.length; i++) mem[at + i] = src[i]!;
}

const u32At = (m: Uint8Array, p: number) => (m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24)) >>> 0;

/** memcmp. Small blocks: a plain loop beats Buffer.compare's call overhead. */
function sameBytes(mem: Uint8Array, at: number, want: Uint8Array): boolean {
  const n = want.length;
  if (n > 64) return Buffer.compare(mem.subarray(at, at + n), want) === 0;
  for (let i = 0; i < n; i++) if (mem[at + i] !== want[i]) return false;
  return true;
}
const SENTINEL_SLOTS = new Uint8Array(8).fill(0xff);

/** A byte pattern that differs per allocation, so a stray write is unlikely to restore it. */
function pattern(n: number, seq: number): Uint8Array {
  const out = new Uint8Array(n);
  const head = Math.min(n, 64);
  for (let i = 0; i < head; i++) out[i] = (0xa5 ^ (seq * 29 + i * 7)) & 0xff;
  for (let filled = head; filled < n; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, n - filled));
  return out;
}

export function describeTickCall(t: Tick): string {
  return `__reflow_pack_actor_run(instance=${t.instance}, payload_ptr=${t.payloadPtr}, payload_len=${t.payload.length}, out_ptr_ptr=${t.slotPtr}, out_len_ptr=${t.slotPtr + 4})`;
}

export { RunStatus };
