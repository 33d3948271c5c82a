// The wasm ABI's ledger: blocks the host holds, live and dead instances,
// registrations, what went wrong along the way, and memory over the calls.
// The checked wasm host keeps one per instance; properties read it. (The
// vtable ABI has its own: harness/hosts/native/vtable-ledger.ts.)

export interface Block {
  ptr: number;
  size: number;
  /** Allocation sequence number: addresses are reused, allocations are not. */
  seq: number;
  label: string;
  /**
   * The bytes the host last wrote into the block; null = not watched. Set it
   * through `Ledger.watch`: the checked host's write barrier watches only
   * the blocks it has heard of.
   */
  expected: Uint8Array | null;
}

export interface Registration {
  /** Index of the import call (0-based, in call order). */
  index: number;
  ptr: number;
  len: number;
  factoryId: number;
  /** Bytes copied at call time, or null when the range was outside memory. */
  bytes: Uint8Array | null;
}

export type FindingKind = 'overlap' | 'integrity' | 'alloc-bounds' | 'result-bounds';

export interface Finding {
  kind: FindingKind;
  /** The pack call after which it was seen, e.g. `__reflow_pack_actor_run(1, 1048, 12, 1064, 1068)`. */
  call: string;
  detail: string;
}

export interface Sample {
  call: number;
  memBytes: number;
  hostHeldBytes: number;
}

export class Ledger {
  /** Host-held blocks, oldest first (a handful at a time: an array beats a Map here). */
  readonly blocks: Block[] = [];
  readonly liveInstances = new Map<number, { factoryId: number }>();
  readonly deadInstances = new Set<number>();
  readonly registrations: Registration[] = [];
  readonly findings: Finding[] = [];
  readonly timeline: Sample[] = [];
  calls = 0;
  allocations = 0;
  hostHeldBytes = 0;
  /** Highest block end (`ptr + size`) any allocation or result has had. */
  highestEnd = 0;
  /** Sampling stride of the timeline (0 = off). */
  sampleEvery = 0;
  /** Bumped whenever the set of watched bytes changes (a block added, taken, watched or not): the write barrier's hull follows it. */
  watchedVersion = 0;

  /** Records a new host-held block (one per allocation: an overlapping, defective one too). */
  addBlock(ptr: number, size: number, label: string, expected: Uint8Array | null): Block {
    const block: Block = { ptr, size, seq: ++this.allocations, label, expected };
    this.blocks.push(block);
    this.watchedVersion++;
    this.hostHeldBytes += size;
    if (ptr + size > this.highestEnd) this.highestEnd = ptr + size;
    return block;
  }

  overlapping(ptr: number, size: number): Block | undefined {
    const end = ptr + Math.max(size, 1);
    for (const b of this.blocks) if (ptr < b.ptr + Math.max(b.size, 1) && b.ptr < end) return b;
    return undefined;
  }

  takeBlock(block: Block): void {
    const bs = this.blocks;
    const i = bs.lastIndexOf(block);
    if (i < 0) return;
    for (let j = i + 1; j < bs.length; j++) bs[j - 1] = bs[j]!; // no splice: it allocates
    bs.pop();
    this.watchedVersion++;
    this.hostHeldBytes -= block.size;
  }

  /** Starts (bytes) or stops (null) watching a held block's bytes. */
  watch(block: Block, expected: Uint8Array | null): void {
    block.expected = expected;
    this.watchedVersion++;
  }

  findBlock(ptr: number): Block | undefined {
    return this.blocks.find((b) => b.ptr === ptr);
  }

  note(kind: FindingKind, call: string, detail: string): void {
    // Bounded: a scribbling pack must not grow the ledger without limit.
    if (this.findings.length < 200) this.findings.push({ kind, call, detail });
  }

  firstFinding(kind: FindingKind): Finding | undefined {
    return this.findings.find((f) => f.kind === kind);
  }

  sample(memBytes: number): void {
    this.calls++;
    if (this.sampleEvery > 0 && this.calls % this.sampleEvery === 0) {
      this.timeline.push({ call: this.calls, memBytes, hostHeldBytes: this.hostHeldBytes });
      // Bounded: past 2,000 samples keep every other one and sample half as often.
      if (this.timeline.length >= 2000) {
        let k = 0;
        for (let i = 1; i < this.timeline.length; i += 2) this.timeline[k++] = this.timeline[i]!;
        this.timeline.length = k;
        this.sampleEvery *= 2;
      }
    }
  }
}
