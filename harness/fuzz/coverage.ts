// Reading what an instrumented instance recorded: edge counters (AFL-style
// hit-count buckets) and, when asked, the CmpLog operands and the byte
// ranges memcmp-like calls compared. One instance runs many inputs
// (persistent mode): after each input the drain export reports the counters
// that moved and zeroes them, so the reader sees only the edges the input
// reached and nothing is allocated per input.
import { CMPCALL_IMPORT, DRAIN, HIT_IMPORT, READ_CMP, RESET_CMP, type CmpSite } from './instrument.ts';
import { tokenOf } from './dictionary.ts';

/** AFL's buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+ as one bit each. */
export function bucket(count: number): number {
  const c = count >>> 0;
  if (c === 0) return 0;
  if (c <= 2) return c;
  if (c === 3) return 4;
  if (c <= 7) return 8;
  if (c <= 15) return 16;
  if (c <= 31) return 32;
  if (c <= 127) return 64;
  return 128;
}

/** What CmpLog saw during one input: operand pairs that differed (integers as decimal text) and compared byte strings. */
export interface CmpFinds {
  ints: [string, string][];
  strings: [string, string][];
}

/**
 * A sparse trace: one u32 per edge reached, `edge << 8 | bucket`. What a
 * worker sends for an input, and what a merge compares.
 */
export type SparseTrace = Uint32Array;

/**
 * One per worker: hooks every instance of the instrumented module, so
 * that after an input the harness reads its counters (and CmpLog values).
 */
export class CoverageReader {
  /** Set while an input runs with CmpLog on: the bytes memcmp-like calls compared. */
  private calls: Map<string, [string, string]> | null = null;
  /** Bucketed counts of the input just drained; only the `touched` entries are non-zero. */
  private readonly trace: Uint8Array;
  private readonly touched: Int32Array;
  private nTouched = 0;
  /** The bucket bits this worker has seen: a subset of the campaign's, so an input new to the campaign is new here first. */
  private readonly seen: Uint8Array;

  constructor(
    readonly edges: number,
    private readonly cmpSites: readonly CmpSite[],
  ) {
    this.trace = new Uint8Array(edges);
    this.touched = new Int32Array(edges);
    this.seen = new Uint8Array(edges);
  }

  /** Exports of the latest instance of each build (edges only, and with CmpLog). */
  private readonly builds = {
    edges: { drain: null as (() => void) | null, readCmp: null as ((i: number) => bigint) | null, resetCmp: null as (() => void) | null, memory: null as WebAssembly.Memory | null },
    cmplog: { drain: null as (() => void) | null, readCmp: null as ((i: number) => bigint) | null, resetCmp: null as (() => void) | null, memory: null as WebAssembly.Memory | null },
  };
  private active = this.builds.edges;

  private readonly imports = {
    [CMPCALL_IMPORT.module]: {
      [CMPCALL_IMPORT.name]: (a: number, b: number, n: number) => this.cmpcall(a >>> 0, b >>> 0, n >>> 0),
    },
    [HIT_IMPORT.module]: {
      [HIT_IMPORT.name]: (edge: number, count: number) => {
        this.trace[edge] = bucket(count);
        this.touched[this.nTouched++] = edge;
      },
    },
  } as WebAssembly.Imports;

  /** The HostOptions.instrumentation hook for instances of one build. */
  hookFor(build: 'edges' | 'cmplog'): { imports: WebAssembly.Imports; onInstance(instance: WebAssembly.Instance): void } {
    return {
      imports: this.imports,
      onInstance: (instance: WebAssembly.Instance) => {
        const ex = instance.exports as Record<string, unknown>;
        const slot = this.builds[build];
        slot.drain = ex[DRAIN] as () => void;
        slot.readCmp = ex[READ_CMP] as (i: number) => bigint;
        slot.resetCmp = ex[RESET_CMP] as () => void;
        slot.memory = ex['memory'] instanceof WebAssembly.Memory ? ex['memory'] : null;
      },
    };
  }

  /** Starts an input, on the CmpLog build (compared byte ranges and operands recorded) or the edge build. */
  begin(cmplog: boolean): void {
    this.active = cmplog ? this.builds.cmplog : this.builds.edges;
    this.calls = cmplog ? new Map() : null;
    if (cmplog) this.active.resetCmp?.();
    for (let k = 0; k < this.nTouched; k++) this.trace[this.touched[k]!] = 0;
    this.nTouched = 0;
  }

  private cmpcall(a: number, b: number, n: number): void {
    const memory = this.active.memory;
    if (!this.calls || !memory || n < 2 || n > 64 || this.calls.size > 256) return;
    const mem = new Uint8Array(memory.buffer);
    if (a + n > mem.length || b + n > mem.length) return;
    const x = tokenOf(mem.subarray(a, a + n));
    const y = tokenOf(mem.subarray(b, b + n));
    if (x !== null && y !== null && x !== y) this.calls.set(`${x}\n${y}`, [x, y]);
  }

  /**
   * Drains the counters of the input that just ran (on the instance it ran
   * on, trapped or not). Returns whether it set a bucket bit this worker had
   * not seen, recording it.
   */
  finish(): boolean {
    this.active.drain?.();
    let novel = false;
    for (let k = 0; k < this.nTouched; k++) {
      const e = this.touched[k]!;
      const b = this.trace[e]!;
      if (b & ~this.seen[e]!) {
        this.seen[e]! |= b;
        novel = true;
      }
    }
    return novel;
  }

  /** The trace of the input just finished, sparse. */
  sparse(): SparseTrace {
    const out = new Uint32Array(this.nTouched);
    for (let k = 0; k < this.nTouched; k++) {
      const e = this.touched[k]!;
      out[k] = (e << 8) | this.trace[e]!;
    }
    return out;
  }

  /** The CmpLog record of the input that just ran: operands that differed, and compared strings. */
  cmpFinds(): CmpFinds {
    const ints: [string, string][] = [];
    const read = this.active.readCmp;
    for (let i = 0; read && i < this.cmpSites.length; i++) {
      const x = read(2 * i);
      const y = read(2 * i + 1);
      if (x !== y) ints.push([x.toString(), y.toString()]);
    }
    return { ints, strings: [...(this.calls?.values() ?? [])] };
  }
}
