// Reading what an instrumented instance recorded: edge counters (AFL-style
// hit-count buckets) and, when asked, the CmpLog operands and the byte
// ranges memcmp-like calls compared.
import { CMPCALL_IMPORT, READ_CMP, READ_EDGE, type CmpSite } from './instrument.ts';
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
 * One per worker: hooks every fresh instance of the instrumented module, so
 * that after an input the harness reads its counters (and CmpLog values).
 */
export class CoverageReader {
  private readEdge: ((i: number) => number) | null = null;
  private readCmp: ((i: number) => bigint) | null = null;
  private memory: WebAssembly.Memory | null = null;
  /** Set while an input runs with CmpLog on: the bytes memcmp-like calls compared. */
  private calls: Map<string, [string, string]> | null = null;

  constructor(
    readonly edges: number,
    private readonly cmpSites: readonly CmpSite[],
  ) {}

  /** The HostOptions.instrumentation hook. */
  readonly hook = {
    imports: {
      [CMPCALL_IMPORT.module]: {
        [CMPCALL_IMPORT.name]: (a: number, b: number, n: number) => this.cmpcall(a >>> 0, b >>> 0, n >>> 0),
      },
    } as WebAssembly.Imports,
    onInstance: (instance: WebAssembly.Instance) => {
      const ex = instance.exports as Record<string, unknown>;
      this.readEdge = ex[READ_EDGE] as (i: number) => number;
      this.readCmp = ex[READ_CMP] as (i: number) => bigint;
      this.memory = ex['memory'] instanceof WebAssembly.Memory ? ex['memory'] : null;
    },
  };

  /** Starts an input; `cmplog` asks for compared byte ranges too. */
  begin(cmplog: boolean): void {
    this.calls = cmplog ? new Map() : null;
    this.readEdge = null;
    this.readCmp = null;
  }

  private cmpcall(a: number, b: number, n: number): void {
    if (!this.calls || !this.memory || n < 2 || n > 64 || this.calls.size > 256) return;
    const mem = new Uint8Array(this.memory.buffer);
    if (a + n > mem.length || b + n > mem.length) return;
    const x = tokenOf(mem.subarray(a, a + n));
    const y = tokenOf(mem.subarray(b, b + n));
    if (x !== null && y !== null && x !== y) this.calls.set(`${x}\n${y}`, [x, y]);
  }

  /** The bucketed counters of the input that just ran, into `out` at `at`. */
  readInto(out: Uint8Array, at: number): void {
    const read = this.readEdge;
    if (!read) return; // the input never got an instance
    for (let i = 0; i < this.edges; i++) out[at + i] = bucket(read(i));
  }

  /** The CmpLog record of the input that just ran: operands that differed, and compared strings. */
  cmpFinds(): CmpFinds {
    const ints: [string, string][] = [];
    const read = this.readCmp;
    for (let i = 0; read && i < this.cmpSites.length; i++) {
      const x = read(2 * i);
      const y = read(2 * i + 1);
      if (x !== y) ints.push([x.toString(), y.toString()]);
    }
    return { ints, strings: [...(this.calls?.values() ?? [])] };
  }
}
