// Reading what an instrumented instance recorded: edge counters (AFL-style
// hit-count buckets) and, when asked, the CmpLog operands and the byte
// ranges memcmp-like calls compared. One instance runs many inputs
// (persistent mode): after each input the drain export reports the counters
// that moved and zeroes them, so the reader sees only the edges the input
// reached and nothing is allocated per input.
import { CMP_DIFFS, CMPCALL_IMPORT, CMPDIFF_IMPORT, DRAIN, HIT_IMPORT, LEARN, NOVEL, RESET_CMP, SEEN_IMPORT, ZERO } from './instrument.ts';
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

/** What the reader calls on an instance of one build (instrument.ts's exports); null before the first instance. */
interface BuildExports {
  drain: (() => void) | null;
  /** 1 when some counter's bucket is new to the instance (instrument.ts, drain()). */
  novel: (() => number) | null;
  zero: (() => void) | null;
  learn: (() => void) | null;
  /** Whether `learn` ran on this instance. */
  learned: boolean;
  /** The CmpLog build only. */
  cmpDiffs: (() => void) | null;
  resetCmp: (() => void) | null;
  memory: WebAssembly.Memory | null;
}

const noInstance = (): BuildExports => ({ drain: null, novel: null, zero: null, learn: null, learned: false, cmpDiffs: null, resetCmp: null, memory: null });

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
  /** Where `cmpdiff` puts what it is told (the list cmpFinds is building). */
  private diffs: [string, string][] = [];
  /** The bucket bits this worker has seen: a subset of the campaign's, so an input new to the campaign is new here first. */
  private readonly seen: Uint8Array;

  constructor(readonly edges: number) {
    this.trace = new Uint8Array(edges);
    this.touched = new Int32Array(edges);
    this.seen = new Uint8Array(edges);
  }

  /** Exports of the latest instance of each build (edges only, and with CmpLog). */
  private readonly builds: Record<'edges' | 'cmplog', BuildExports> = { edges: noInstance(), cmplog: noInstance() };
  /** The build of the input running (its latest instance is looked up at each use: an input may start on a new one). */
  private build: 'edges' | 'cmplog' = 'edges';
  private get active(): BuildExports {
    return this.builds[this.build];
  }

  private readonly imports = {
    [CMPCALL_IMPORT.module]: {
      [CMPCALL_IMPORT.name]: (a: number, b: number, n: number) => this.cmpcall(a >>> 0, b >>> 0, n >>> 0),
    },
    [CMPDIFF_IMPORT.module]: {
      [CMPDIFF_IMPORT.name]: (_site: number, a: bigint, b: bigint) => this.diffs.push([a.toString(), b.toString()]),
    },
    [SEEN_IMPORT.module]: {
      [SEEN_IMPORT.name]: (edge: number) => this.seen[edge]!,
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
        const fn = (name: string) => (typeof ex[name] === 'function' ? (ex[name] as () => number) : null);
        this.builds[build] = {
          drain: fn(DRAIN),
          novel: fn(NOVEL),
          zero: fn(ZERO),
          learn: fn(LEARN),
          learned: false,
          cmpDiffs: fn(CMP_DIFFS),
          resetCmp: fn(RESET_CMP),
          memory: ex['memory'] instanceof WebAssembly.Memory ? ex['memory'] : null,
        };
      },
    };
  }

  /** Starts an input, on the CmpLog build (compared byte ranges and operands recorded) or the edge build. */
  begin(cmplog: boolean): void {
    this.build = cmplog ? 'cmplog' : 'edges';
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
    // Hot in the CmpLog build (every (i32,i32,i32)->i32 call): equal bytes teach nothing, so they are
    // told apart before any string is made; tokenOf then says what it always said.
    let same = true;
    for (let i = 0; i < n; i++) {
      if (mem[a + i] !== mem[b + i]) {
        same = false;
        break;
      }
    }
    if (same) return;
    const x = tokenOf(mem.subarray(a, a + n));
    const y = x === null ? null : tokenOf(mem.subarray(b, b + n));
    if (x !== null && y !== null) this.calls.set(`${x}\n${y}`, [x, y]);
  }

  /**
   * Drains the counters of the input that just ran (on the instance it ran
   * on, trapped or not). Returns whether it set a bucket bit this worker had
   * not seen, recording it. Unless `trace` (the caller reads sparse() in any
   * case), an input the instance itself calls old is not drained, only
   * zeroed (instrument.ts, drain()): then sparse() is empty.
   */
  finish(trace = false): boolean {
    const a = this.active;
    // The instance learns what the harness has seen when it is first asked (never, where every trace is read: a merge).
    if (!trace && !a.learned && a.learn) {
      a.learn();
      a.learned = true;
    }
    if (!trace && a.novel && a.novel() === 0) {
      a.zero!();
      return false;
    }
    a.drain?.();
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

  /** The CmpLog record of the input that just ran: operands that differed (in site order), and compared strings. */
  cmpFinds(): CmpFinds {
    const ints: [string, string][] = [];
    const diffs = this.active.cmpDiffs;
    if (diffs) {
      // The build reports only the sites that differ, into `ints`.
      this.diffs = ints;
      diffs();
      this.diffs = [];
    }
    return { ints, strings: [...(this.calls?.values() ?? [])] };
  }
}
