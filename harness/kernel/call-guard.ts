// The worker marks every pack call in a SharedArrayBuffer before making it;
// the main thread's watchdog reads it to tell a hang from a slow property and
// to name the call in progress when it has to kill the worker. Plain Int32
// writes keep this cheap enough for the hot path of every tick.

const STATE = 0; // 0 idle, 1 inside a pack call
const SEQ = 1;
const CALL = 2;
const BUDGET = 3;
const ARGC = 4;
const ARGS = 5;
/** fast-check runs done by the worker (for the progress line). */
const RUNS = ARGS + 5;
const SLOTS = RUNS + 1;

/** Names of the guarded calls; the index travels through shared memory. */
export const GUARDED_CALLS = [
  'instantiate',
  'reflow_pack_abi_version',
  '__reflow_pack_register',
  '__reflow_pack_alloc',
  '__reflow_pack_free',
  '__reflow_pack_create_actor',
  '__reflow_pack_destroy_actor',
  '__reflow_pack_actor_run',
  // Calls into a host adapter (packcheck host): the detail travels by message.
  'adapter call',
] as const;
export type GuardedCall = (typeof GUARDED_CALLS)[number];

export function newGuardBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * 4);
}

/** The worker's side. */
export class CallGuard {
  private readonly cells: Int32Array;
  constructor(buffer: SharedArrayBuffer | null, readonly baseBudgetMs: number) {
    this.cells = new Int32Array(buffer ?? new SharedArrayBuffer(SLOTS * 4));
  }

  /** Scalar arguments, not an array: this runs before every pack call. */
  enter(call: number, argc: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, extraBudgetMs = 0): void {
    const c = this.cells;
    c[CALL] = call;
    c[BUDGET] = this.baseBudgetMs + extraBudgetMs;
    c[ARGC] = argc;
    c[ARGS] = a0;
    c[ARGS + 1] = a1;
    c[ARGS + 2] = a2;
    c[ARGS + 3] = a3;
    c[ARGS + 4] = a4;
    c[SEQ] = (c[SEQ]! + 1) | 0;
    c[STATE] = 1;
  }

  leave(): void {
    this.cells[STATE] = 0;
  }

  countRun(): void {
    this.cells[RUNS] = (this.cells[RUNS]! + 1) | 0;
  }
}

export interface CallInProgress {
  call: GuardedCall;
  args: number[];
  budgetMs: number;
  elapsedMs: number;
}

/** The main thread's side: polls the cells and says when a call overran. */
export class Watchdog {
  private readonly cells: Int32Array;
  private lastSeq = -1;
  private since = 0;
  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  /** fast-check runs the worker has done so far (all properties). */
  runs(): number {
    return Atomics.load(this.cells, RUNS);
  }

  /** Returns the call in progress when it has run past its budget. */
  overdue(now: number): CallInProgress | null {
    const c = this.cells;
    if (Atomics.load(c, STATE) !== 1) {
      this.lastSeq = -1;
      return null;
    }
    const seq = Atomics.load(c, SEQ);
    if (seq !== this.lastSeq) {
      this.lastSeq = seq;
      this.since = now;
      return null;
    }
    const elapsed = now - this.since;
    const budget = c[BUDGET]!;
    if (elapsed <= budget) return null;
    const argc = c[ARGC]!;
    const args: number[] = [];
    for (let i = 0; i < argc; i++) args.push(c[ARGS + i]! >>> 0);
    return { call: GUARDED_CALLS[c[CALL]!] ?? 'instantiate', args, budgetMs: budget, elapsedMs: elapsed };
  }
}

export function describeCall(call: string, args: readonly number[]): string {
  return `${call}(${args.join(', ')})`;
}
