// Watches every call a host under test makes into a probe pack, without the
// host's cooperation: while installed, WebAssembly.Instance and
// WebAssembly.instantiate hand out instances whose exports are recorders.
// Each instantiation gets a Ledger (the blocks the host holds) and a trace.
import { PROBE_CANARY_BYTES } from './probe-pack.ts';
import { Ledger, type Block } from '../wasm/ledger.ts';
import { describeCall } from '../../kernel/call-guard.ts';

const CANARY = 0xc5;

export interface HostAlloc {
  block: Block;
  /** The host's run() (0-based count of run calls on the adapter) during which it was allocated, or null. */
  run: number | null;
  frees: number[];
  /** How many frees it had when its run() resolved (its deadline); undefined outside a run. */
  freesByDeadline?: number;
}

export interface HostRun {
  index: number;
  args: number[];
  /** The payload bytes as the host wrote them, read when run was called (null: outside memory). */
  payload: Uint8Array | null;
  /** Problems with the pointers the host passed (outside live blocks). */
  pointerProblems: string[];
  status: number;
  outPtr: number;
  outLen: number;
  resultInBounds: boolean;
  /** Frees of this run's result: the sizes passed. */
  resultFrees: number[];
  /** Set when the host's run() resolved, with the result frees seen by then. */
  resolved: boolean;
  freesByDeadline?: number;
}

export interface TraceEvent {
  call: string;
  args: number[];
  ret?: number;
}

export class RecordedInstance {
  readonly ledger = new Ledger();
  readonly events: TraceEvent[] = [];
  readonly allocs: HostAlloc[] = [];
  readonly runs: HostRun[] = [];
  readonly creates: number[] = [];
  readonly destroys: number[] = [];
  readonly canaryProblems: string[] = [];
  readonly strayFrees: string[] = [];
  registerCalls = 0;
  createBeforeRegister = false;
  /** The host's run() in progress (set by the property driving the host). */
  currentRun: number | null = null;
  memory: WebAssembly.Memory | null = null;

  private mem(): Uint8Array {
    return new Uint8Array(this.memory!.buffer);
  }

  /** Canaries around every live block: a host write outside its blocks shows here. */
  checkCanaries(before: string): void {
    const m = this.mem();
    for (const a of this.allocs) {
      if (a.frees.length) continue;
      const { ptr, size } = a.block;
      for (const start of [ptr - PROBE_CANARY_BYTES, ptr + size]) {
        for (let i = 0; i < PROBE_CANARY_BYTES; i++) {
          const at = start + i;
          if (at < 0 || at >= m.length || m[at] === CANARY) continue;
          if (this.canaryProblems.length < 20) this.canaryProblems.push(`before ${before}: byte ${at}, ${at < ptr ? ptr - at : at - (ptr + size) + 1} byte(s) ${at < ptr ? 'before' : 'past the end of'} the host's block [${ptr}, ${ptr + size}), was written (0x${m[at]!.toString(16)})`);
          m[at] = CANARY;
        }
      }
    }
  }

  private liveBlockHolding(p: number, n: number): HostAlloc | undefined {
    return this.allocs.find((a) => !a.frees.length && p >= a.block.ptr && p + n <= a.block.ptr + a.block.size);
  }

  wrap(exports: WebAssembly.Exports): WebAssembly.Exports {
    const ex = exports as Record<string, unknown>;
    const fn = (name: string) => ex[name] as (...a: number[]) => number;
    this.memory = ex.memory as WebAssembly.Memory;
    const out: Record<string, unknown> = { ...ex };
    const note = (call: string, args: number[], ret?: number) => this.events.push({ call, args, ret });
    out.__reflow_pack_register = () => {
      this.checkCanaries('__reflow_pack_register()');
      this.registerCalls++;
      const r = fn('__reflow_pack_register')();
      note('__reflow_pack_register', [], r);
      return r;
    };
    out.__reflow_pack_alloc = (size: number) => {
      this.checkCanaries(`__reflow_pack_alloc(${size >>> 0})`);
      const p = fn('__reflow_pack_alloc')(size) >>> 0;
      note('__reflow_pack_alloc', [size >>> 0], p);
      if (p !== 0) {
        const n = size >>> 0;
        const block = this.ledger.addBlock(p, n, 'host', null);
        this.allocs.push({ block, run: this.currentRun, frees: [] });
        const m = this.mem();
        for (let i = 1; i <= PROBE_CANARY_BYTES; i++) {
          if (p - i >= 0) m[p - i] = CANARY;
          if (p + n - 1 + i < m.length) m[p + n - 1 + i] = CANARY;
        }
      }
      return p;
    };
    out.__reflow_pack_free = (ptr: number, size: number) => {
      const p = ptr >>> 0;
      const n = size >>> 0;
      this.checkCanaries(`__reflow_pack_free(${p}, ${n})`);
      note('__reflow_pack_free', [p, n]);
      const a = this.allocs.find((x) => x.block.ptr === p && !x.frees.length) ?? this.allocs.find((x) => x.block.ptr === p);
      const r = this.runs.find((x) => x.outPtr === p && x.resultInBounds);
      if (a) {
        a.frees.push(n);
        this.ledger.takeBlock(a.block);
      } else if (r) r.resultFrees.push(n);
      else if (p !== 0 && n !== 0 && this.strayFrees.length < 20) this.strayFrees.push(`__reflow_pack_free(${p}, ${n}) of a block the pack never gave the host`);
      fn('__reflow_pack_free')(ptr, size);
    };
    out.__reflow_pack_create_actor = (f: number) => {
      this.checkCanaries(`__reflow_pack_create_actor(${f >>> 0})`);
      if (this.registerCalls === 0) this.createBeforeRegister = true;
      const id = fn('__reflow_pack_create_actor')(f) >>> 0;
      note('__reflow_pack_create_actor', [f >>> 0], id);
      if (id !== 0) this.creates.push(id);
      return id;
    };
    out.__reflow_pack_destroy_actor = (id: number) => {
      this.checkCanaries(`__reflow_pack_destroy_actor(${id >>> 0})`);
      note('__reflow_pack_destroy_actor', [id >>> 0]);
      this.destroys.push(id >>> 0);
      fn('__reflow_pack_destroy_actor')(id);
    };
    out.__reflow_pack_actor_run = (...raw: number[]) => {
      const args = raw.map((a) => a >>> 0);
      const [, p, len, s0, s1] = args as [number, number, number, number, number];
      const call = describeCall('__reflow_pack_actor_run', args);
      this.checkCanaries(call);
      const m = this.mem();
      const span = Math.max(len, 1);
      const problems: string[] = [];
      if (!this.liveBlockHolding(p, span)) problems.push(`the payload range [${p}, ${p + span}) is not inside a live block the host allocated`);
      if (!this.liveBlockHolding(s0, 4)) problems.push(`out_ptr_ptr ${s0}: its 4 bytes are not inside a live block the host allocated`);
      if (!this.liveBlockHolding(s1, 4)) problems.push(`out_len_ptr ${s1}: its 4 bytes are not inside a live block the host allocated`);
      const run: HostRun = { index: this.runs.length, args, payload: p + len <= m.length ? m.slice(p, p + len) : null, pointerProblems: problems, status: 0, outPtr: 0, outLen: 0, resultInBounds: false, resultFrees: [], resolved: false };
      this.runs.push(run);
      run.status = fn('__reflow_pack_actor_run')(...raw) | 0;
      const after = this.mem();
      const dv = new DataView(after.buffer);
      if (s0 + 4 <= after.length) run.outPtr = dv.getUint32(s0, true);
      if (s1 + 4 <= after.length) run.outLen = dv.getUint32(s1, true);
      run.resultInBounds = run.outPtr !== 0 && run.outPtr + Math.max(run.outLen, 1) <= after.length;
      note('__reflow_pack_actor_run', args, run.status);
      return run.status;
    };
    return out as WebAssembly.Exports;
  }
}

/** A module's exports and imports, names and kinds: what identifies a probe recompiled from its bytes. */
function signature(m: WebAssembly.Module): string {
  return JSON.stringify([WebAssembly.Module.exports(m), WebAssembly.Module.imports(m)]);
}

/**
 * Interposes on WebAssembly instantiation while installed, and records the
 * instances of ONE probe module only: the Module handed to the host (or a
 * module with exactly its exports and imports, should a host recompile it).
 * Every other instantiation in the process (Node's own llhttp behind
 * `fetch`, modules the adapter brings) goes through untouched.
 */
export class HostRecorder {
  readonly instances: RecordedInstance[] = [];
  private readonly probeSignature: string;

  constructor(private readonly probe: WebAssembly.Module) {
    this.probeSignature = signature(probe);
  }

  isProbe(m: unknown): boolean {
    if (m === this.probe) return true;
    if (!(m instanceof WebAssembly.Module)) return false;
    try {
      return signature(m) === this.probeSignature;
    } catch {
      return false;
    }
  }

  install(): () => void {
    const W = WebAssembly as unknown as Record<string, unknown>;
    const RealInstance = WebAssembly.Instance;
    const realInstantiate = WebAssembly.instantiate;
    const realStreaming = WebAssembly.instantiateStreaming as ((s: unknown, i?: WebAssembly.Imports) => Promise<unknown>) | undefined;
    const wrapInstance = (module: unknown, inst: WebAssembly.Instance): WebAssembly.Instance => {
      if (!this.isProbe(module)) return inst;
      const rec = new RecordedInstance();
      this.instances.push(rec);
      const exports = Object.freeze(rec.wrap(inst.exports));
      // Keeps `instanceof WebAssembly.Instance` true for the host.
      return Object.create(RealInstance.prototype, { exports: { value: exports, enumerable: true } }) as WebAssembly.Instance;
    };
    const wrapPair = (r: unknown) => {
      const pair = r as { module: WebAssembly.Module; instance: WebAssembly.Instance };
      return { module: pair.module, instance: wrapInstance(pair.module, pair.instance) };
    };
    const FakeInstance = function (this: unknown, module: WebAssembly.Module, imports?: WebAssembly.Imports) {
      return wrapInstance(module, new RealInstance(module, imports));
    } as unknown as typeof WebAssembly.Instance;
    FakeInstance.prototype = RealInstance.prototype;
    W.Instance = FakeInstance;
    W.instantiate = async (source: unknown, imports?: WebAssembly.Imports) => {
      const r = await (realInstantiate as (s: unknown, i?: WebAssembly.Imports) => Promise<unknown>)(source, imports);
      // With a Module the promise resolves to the Instance itself; with bytes, to {module, instance}.
      if (r instanceof RealInstance) return wrapInstance(source, r);
      return wrapPair(r);
    };
    if (realStreaming) W.instantiateStreaming = async (source: unknown, imports?: WebAssembly.Imports) => wrapPair(await realStreaming(source, imports));
    return () => {
      W.Instance = RealInstance;
      W.instantiate = realInstantiate;
      if (realStreaming) W.instantiateStreaming = realStreaming;
    };
  }
}
