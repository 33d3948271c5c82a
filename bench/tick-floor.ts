// The floor under a checked tick: ABI.md's tick sequence written out by
// hand, with only what the checked host cannot leave out, so bench (a) can
// say how much of the checked/bare ratio is the host's structure and how
// much is the checking itself. Two sides:
// - "watchdog marks only": each of the six calls marked in a shared
//   Int32Array as the call guard does (call, arguments, sequence, state),
//   and the memory view re-read when a call grew memory;
// - "marks + verification": the same, plus a trap guard (try/catch around each call) and the comparison
//   of every host-held block after every call (the payload while the pack
//   runs and frees, the slot copy after run), which is what catching any
//   write into a held block, and naming the call that made it, needs
//   without knowing what a call wrote.
// Nothing else of the checked host is here (no ledger, no Tick record, no
// bounds notes): these are lower bounds, not hosts.
import { importsFor } from '../harness/hosts/wasm/stub-imports.ts';

type Fn = (...a: number[]) => number;

function instance(module: WebAssembly.Module): { ex: Record<string, Fn> & { memory: WebAssembly.Memory }; id: number } {
  const ex = new WebAssembly.Instance(module, importsFor(module, () => {})).exports as Record<string, Fn> & { memory: WebAssembly.Memory };
  ex['__reflow_pack_register']!();
  return { ex, id: ex['__reflow_pack_create_actor']!(0) };
}

/** Rounds of `ticks` hand-written ticks; `verify` adds the trap guard and the per-call comparison of held blocks. */
export function floorRounds(module: WebAssembly.Module, payload: Uint8Array, ticks: number, verify: boolean): () => number {
  const { ex, id } = instance(module);
  const alloc = ex['__reflow_pack_alloc']!;
  const run = ex['__reflow_pack_actor_run']!;
  const free = ex['__reflow_pack_free']!;
  const cells = new Int32Array(new SharedArrayBuffer(64));
  const sentinel = new Uint8Array(8).fill(0xa5);
  const slotCopy = new Uint8Array(8);
  // Held blocks: at most two in a tick (the payload, the slot copy).
  const heldAt = [0, 0];
  const heldBytes = [payload, slotCopy];
  let held = 0;
  let mem = new Uint8Array(ex.memory.buffer);
  // After every call: a grown memory detaches the old buffer (length 0), the only re-read needed.
  const after = (): void => {
    if (mem.length === 0) mem = new Uint8Array(ex.memory.buffer);
    if (!verify) return;
    for (let k = 0; k < held; k++) {
      const want = heldBytes[k]!;
      const at = heldAt[k]!;
      // As the checked host compares: a loop for a few bytes, memcmp past 64.
      if (want.length > 64) {
        if (Buffer.compare(mem.subarray(at, at + want.length), want) !== 0) throw new Error(`a held block at ${at} changed`);
      } else for (let j = 0; j < want.length; j++) if (mem[at + j] !== want[j]) throw new Error(`a held block changed at ${at + j}`);
    }
  };
  const mark = (call: number, a0: number, a1: number): void => {
    cells[0] = call;
    cells[1] = a0;
    cells[2] = a1;
    cells[9] = (cells[9]! + 1) | 0;
    cells[10] = 1;
  };
  const trapped = (e: unknown): Error => new Error(`trap: ${(e as Error).message}`);
  return () => {
    const t0 = performance.now();
    for (let i = 0; i < ticks; i++) {
      mark(2, payload.length, 0);
      let p = 0;
      try {
        p = alloc(payload.length) >>> 0;
      } catch (e) {
        throw trapped(e);
      }
      cells[10] = 0;
      after();
      mem.set(payload, p);
      heldAt[0] = p;
      heldBytes[0] = payload;
      held = 1;
      mark(2, 8, 0);
      let s = 0;
      try {
        s = alloc(8) >>> 0;
      } catch (e) {
        throw trapped(e);
      }
      cells[10] = 0;
      after();
      mem.set(sentinel, s);
      mark(6, id, p);
      try {
        run(id, p, payload.length, s, s + 4);
      } catch (e) {
        throw trapped(e);
      }
      cells[10] = 0;
      after();
      const out = (mem[s]! | (mem[s + 1]! << 8) | (mem[s + 2]! << 16) | (mem[s + 3]! << 24)) >>> 0;
      const len = (mem[s + 4]! | (mem[s + 5]! << 8) | (mem[s + 6]! << 16) | (mem[s + 7]! << 24)) >>> 0;
      for (let j = 0; j < 8; j++) slotCopy[j] = mem[s + j]!;
      mem.slice(out, out + len);
      heldAt[0] = s; // the payload is released as its free starts; the slot copy stays held
      heldBytes[0] = slotCopy;
      mark(3, p, payload.length);
      try {
        free(p, payload.length);
      } catch (e) {
        throw trapped(e);
      }
      cells[10] = 0;
      after();
      held = 0;
      mark(3, s, 8);
      try {
        free(s, 8);
      } catch (e) {
        throw trapped(e);
      }
      cells[10] = 0;
      after();
      mark(3, out, len);
      try {
        free(out, Math.max(len, 1));
      } catch (e) {
        throw trapped(e);
      }
      cells[10] = 0;
      after();
    }
    return performance.now() - t0;
  };
}
