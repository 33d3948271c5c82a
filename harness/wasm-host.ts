// The checked reference host of the wasm ABI. Every call into the pack goes
// through `call()`: it marks the call for the watchdog, turns traps into
// PackTrap, re-reads memory afterwards (any call may grow it) and verifies
// that the blocks the host holds still hold what the host wrote.
import { ALLOC_ALIGN, MIB, OUT_SLOT_SENTINEL, RunStatus, WASM_EXPORTS } from './abi.ts';
import { CallGuard, GUARDED_CALLS, describeCall, type GuardedCall } from './call-guard.ts';
import { HarnessRefusal, PackTrap } from './errors.ts';
import { Ledger, type Block } from './ledger.ts';
import { importsFor } from '../mocks/stub-imports.ts';

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
  /** Whether each out slot still held the sentinel after the call. */
  slotUntouched: [boolean, boolean];
  /** `out_ptr + max(out_len, 1) <= memory size` (no u32 wrap-around). */
  resultInBounds: boolean;
  /** A copy of the result bytes, or null (no result, or out of bounds). */
  result: Uint8Array | null;
  /** The host-held block the result overlaps, if any. */
  resultOverlaps: Block | null;
  memBytesAfter: number;
}

const CALL_INDEX = Object.fromEntries(GUARDED_CALLS.map((n, i) => [n, i])) as Record<GuardedCall, number>;
const NO_ARGS: number[] = [];

export class CheckedWasmHost {
  private readonly ex: PackExports;
  private readonly guard: CallGuard;
  private readonly watch: boolean;
  private view: Uint8Array;

  private constructor(
    instance: WebAssembly.Instance,
    readonly ledger: Ledger,
    guard: CallGuard,
    watch: boolean,
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
  }

  /** A fresh instance of the pack with its own ledger. Registration is not called. */
  static instantiate(module: WebAssembly.Module, opts: HostOptions = {}): CheckedWasmHost {
    const guard = opts.guard ?? new CallGuard(null, 2000);
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
    guard.enter(CALL_INDEX.instantiate, NO_ARGS);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, importsFor(module, record));
    } catch (e) {
      throw new PackTrap('instantiating the module', e);
    } finally {
      guard.leave();
    }
    const host = new CheckedWasmHost(instance, ledger, guard, opts.watchBlocks ?? true);
    memory = host.ex.memory;
    return host;
  }

  /** The current memory (re-read: growth detaches old views). */
  mem(): Uint8Array {
    if (this.view.buffer !== this.ex.memory.buffer) this.view = new Uint8Array(this.ex.memory.buffer);
    return this.view;
  }

  get memBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  private call(name: GuardedCall, f: Fn, args: number[], extraBudgetMs = 0): number {
    this.guard.enter(CALL_INDEX[name], args, extraBudgetMs);
    let r: number | undefined;
    try {
      r = f(...args);
    } catch (e) {
      throw new PackTrap(describeCall(name, args.map((a) => a >>> 0)), e);
    } finally {
      this.guard.leave();
    }
    this.afterCall(name, args);
    return r === undefined ? 0 : r;
  }

  private afterCall(name: GuardedCall, args: number[]): void {
    const mem = this.mem();
    this.ledger.sample(mem.length);
    if (!this.watch) return;
    for (const b of this.ledger.blocks.values()) {
      const want = b.expected;
      if (want === null || b.ptr + want.length > mem.length) continue;
      const got = mem.subarray(b.ptr, b.ptr + want.length);
      if (Buffer.compare(got, want) !== 0) {
        let at = 0;
        while (at < want.length && got[at] === want[at]) at++;
        this.ledger.note(
          'integrity',
          describeCall(name, args.map((a) => a >>> 0)),
          `the ${b.label} block [${b.ptr}, ${b.ptr + b.size}) changed at offset ${at}: byte 0x${want[at]!.toString(16).padStart(2, '0')} became 0x${got[at]!.toString(16).padStart(2, '0')}`,
        );
        b.expected = got.slice();
      }
    }
  }

  abiVersion(): number {
    return this.call('reflow_pack_abi_version', this.ex.abiVersion, NO_ARGS) >>> 0;
  }

  register(): number {
    return this.call('__reflow_pack_register', this.ex.register, NO_ARGS) | 0;
  }

  /** Raw alloc: the pointer as u32, with no bookkeeping. */
  allocRaw(size: number): number {
    return this.call('__reflow_pack_alloc', this.ex.alloc, [size | 0], size / MIB) >>> 0;
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
    const mem = this.mem();
    if (p % ALLOC_ALIGN !== 0 || p + n > mem.length) {
      this.ledger.note('alloc-bounds', `__reflow_pack_alloc(${n})`, `returned ${p}: ${p % ALLOC_ALIGN !== 0 ? 'not 8-aligned' : `the block ends at ${p + n}, past memory (${mem.length} bytes)`}`);
      if (p + n > mem.length) throw new HarnessRefusal(`__reflow_pack_alloc(${n}) returned ${p}, a block that ends at ${p + n}, past the end of memory (${mem.length} bytes)`);
    }
    let expected: Uint8Array;
    if (fill) {
      mem.set(fill.subarray(0, n), p);
      expected = fill.length === n ? fill : mem.slice(p, p + n);
    } else {
      expected = pattern(n, this.ledger.allocations + 1);
      mem.set(expected, p);
    }
    const overlap = this.ledger.addBlock(p, n, label, expected);
    if (overlap) {
      this.ledger.note('overlap', `__reflow_pack_alloc(${n})`, `returned [${p}, ${p + n}), which overlaps the host-held ${overlap.label} block [${overlap.ptr}, ${overlap.ptr + overlap.size}) from allocation #${overlap.seq}`);
    }
    return this.ledger.blocks.get(this.ledger.allocations) ?? null;
  }

  /** Frees a host-held block with its own size. It stops being host-held as the call starts. */
  free(block: Block): void {
    this.ledger.takeBlock(block);
    this.call('__reflow_pack_free', this.ex.free, [block.ptr | 0, block.size | 0]);
  }

  freeRaw(ptr: number, size: number): void {
    this.call('__reflow_pack_free', this.ex.free, [ptr | 0, size | 0]);
  }

  create(factoryId: number): number {
    const id = this.call('__reflow_pack_create_actor', this.ex.create, [factoryId | 0]) >>> 0;
    if (id !== 0) {
      this.ledger.deadInstances.delete(id);
      this.ledger.liveInstances.set(id, { factoryId: factoryId >>> 0 });
    }
    return id;
  }

  destroy(id: number): void {
    this.call('__reflow_pack_destroy_actor', this.ex.destroy, [id | 0]);
    if (this.ledger.liveInstances.delete(id >>> 0)) this.ledger.deadInstances.add(id >>> 0);
  }

  /**
   * One tick as ABI.md lays it out: payload block, slot block (pre-filled
   * with the sentinel), run, read the slots, copy the result, then free the
   * result with `max(out_len, 1)` (only when it is in bounds and overlaps no
   * host-held block: then it is not a block of the pack's), the payload and
   * the slots. `keep` leaves the payload and slot blocks host-held.
   */
  run(instance: number, payload: Uint8Array, opts: { keep?: boolean; freeResult?: boolean } = {}): Tick {
    const tick: Tick = {
      instance: instance >>> 0,
      payload,
      payloadPtr: 0,
      slotPtr: 0,
      status: 0,
      outPtr: 0,
      outLen: 0,
      slotUntouched: [false, false],
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
    sb.expected = null; // the pack writes the two slots during the call
    tick.status =
      this.call('__reflow_pack_actor_run', this.ex.run, [instance | 0, pb.ptr, payload.length, sb.ptr, sb.ptr + 4], payload.length / MIB) | 0;
    const mem = this.mem();
    const dv = new DataView(mem.buffer, sb.ptr, 8);
    tick.outPtr = dv.getUint32(0, true);
    tick.outLen = dv.getUint32(4, true);
    tick.slotUntouched = [tick.outPtr === OUT_SLOT_SENTINEL, tick.outLen === OUT_SLOT_SENTINEL];
    sb.expected = mem.slice(sb.ptr, sb.ptr + 8);
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
    if (opts.freeResult !== false && tick.resultInBounds && !tick.resultOverlaps) this.freeRaw(tick.outPtr, span);
    if (!opts.keep) {
      this.free(pb);
      this.free(sb);
    }
    return tick;
  }
}

const ONE_ZERO = new Uint8Array([0]);
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
