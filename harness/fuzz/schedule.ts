// Which corpus entry the campaign mutates next. Coverage climbs a ladder
// (a nesting level, a state of a tick sequence) one rung per entry, so the
// entry at the top of the ladder must get most of the children, not one in
// hundreds: a new entry first gets a run of children of its own (newest
// first), and its deterministic stage (Mutator.stage) when it reached an
// edge no entry reached before; after that, parents are drawn by weight,
// AFL-style: favoured entries (the smallest entry reaching some edge,
// AFL's top_rated) far ahead of the others, and entries fuzzed less ahead
// of entries fuzzed more. Everything here depends only on the order of
// admissions and draws, so one lane with a fixed seed stays deterministic.
import type { SparseTrace } from './coverage.ts';
import { inputSize, type FuzzInput } from './input.ts';

interface Entry {
  input: FuzzInput;
  size: number;
  /** Edges it is the smallest entry for (AFL's top_rated): favoured while > 0. */
  tops: number;
  /** Children made from it so far. */
  picks: number;
  /** It reached an edge no entry had reached. */
  newEdge: boolean;
}

/** Children a new entry gets before random picks resume (twice that when it reached a new edge). */
export const FRESH_ENERGY = 16;
/** New entries waiting for their children: the newest are at the frontier, older ones are dropped. */
const FRESH_CAP = 256;
/** Deterministic stages waiting: smallest entry first (AFL favours small, fast entries; a ladder's rungs are small), the largest dropped. */
const STAGE_CAP = 64;
/** A non-favoured entry's weight next to a favoured one's (AFL skips most of them). */
const UNFAVOURED = 0.1;
/** Children after which an entry's weight has halved. */
const PICKS_HALF = 32;

export class Schedule {
  /** The corpus, in order of admission (what the mutator splices from and what is saved). */
  readonly inputs: FuzzInput[] = [];
  private readonly entries: Entry[] = [];
  /** Per edge: the index of the smallest entry reaching it, -1 for none yet. */
  private readonly best: Int32Array;
  private readonly fresh: { entry: Entry; energy: number }[] = [];
  private readonly stages: { size: number; children: Iterator<FuzzInput> }[] = [];
  /** Cumulative weights for draws, rebuilt once per batch (`refresh`). */
  private cumulative = new Float64Array(0);

  constructor(
    edges: number,
    /** The deterministic stage of a new entry (Mutator.stage). */
    private readonly stageOf: (input: FuzzInput) => Iterator<FuzzInput>,
  ) {
    this.best = new Int32Array(edges).fill(-1);
  }

  get size(): number {
    return this.inputs.length;
  }

  /** A new corpus entry, with the trace that made it new (every edge it reached). */
  admit(input: FuzzInput, trace: SparseTrace): void {
    const at = this.entries.length;
    const entry: Entry = { input, size: inputSize(input), tops: 0, picks: 0, newEdge: false };
    for (const x of trace) {
      const e = x >>> 8;
      const holder = this.best[e]!;
      if (holder === -1) entry.newEdge = true;
      else if (this.entries[holder]!.size <= entry.size) continue;
      else this.entries[holder]!.tops--;
      this.best[e] = at;
      entry.tops++;
    }
    this.entries.push(entry);
    this.inputs.push(input);
    this.fresh.push({ entry, energy: entry.newEdge ? 2 * FRESH_ENERGY : FRESH_ENERGY });
    if (this.fresh.length > FRESH_CAP) this.fresh.splice(0, this.fresh.length - FRESH_CAP);
    if (entry.newEdge) {
      this.stages.push({ size: entry.size, children: this.stageOf(input) });
      if (this.stages.length > STAGE_CAP) this.stages.splice(this.smallestStage(true), 1);
    }
  }

  /** An input that reached no new coverage but must be in the corpus to mutate (a campaign whose seeds all failed). */
  admitPlain(input: FuzzInput): void {
    this.entries.push({ input, size: inputSize(input), tops: 0, picks: 0, newEdge: false });
    this.inputs.push(input);
  }

  get hasFresh(): boolean {
    return this.fresh.length > 0;
  }

  /** The newest entry still owed children, and how many it gets now (at most `room`). */
  takeFresh(room: number): { parent: FuzzInput; children: number } | null {
    const top = this.fresh.at(-1);
    if (!top || room <= 0) return null;
    const children = Math.min(room, top.energy);
    top.energy -= children;
    top.entry.picks += children;
    if (top.energy <= 0) this.fresh.pop();
    return { parent: top.entry.input, children };
  }

  /** The index of the stage of the smallest entry (the newest of equals), or of the largest (the oldest of equals). */
  private smallestStage(largest = false): number {
    let at = 0;
    for (let k = 1; k < this.stages.length; k++) {
      const d = this.stages[k]!.size - this.stages[at]!.size;
      if (largest ? d > 0 : d <= 0) at = k;
    }
    return at;
  }

  /** Up to `room` children of the waiting deterministic stages, smallest entry first. */
  takeStage(room: number): FuzzInput[] {
    const out: FuzzInput[] = [];
    while (out.length < room && this.stages.length) {
      const at = this.smallestStage();
      const next = this.stages[at]!.children.next();
      if (next.done) this.stages.splice(at, 1);
      else out.push(next.value);
    }
    return out;
  }

  /** Rebuilds the draw weights (once per batch: picks change with every child). */
  refresh(): void {
    if (this.cumulative.length < this.entries.length) this.cumulative = new Float64Array(Math.max(64, 2 * this.entries.length));
    let sum = 0;
    for (let k = 0; k < this.entries.length; k++) {
      const e = this.entries[k]!;
      sum += (e.tops > 0 ? 1 : UNFAVOURED) / (1 + e.picks / PICKS_HALF);
      this.cumulative[k] = sum;
    }
  }

  /** A parent drawn by weight (`refresh` first). */
  draw(rand: () => number): FuzzInput {
    const n = this.entries.length;
    const r = rand() * this.cumulative[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    const e = this.entries[lo]!;
    e.picks++;
    return e.input;
  }
}
