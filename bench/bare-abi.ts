// ABI.md's call sequence and nothing else (no checks, no instrumentation, no
// oracle): the floor the fuzzing benchmark compares a checked, instrumented
// execution with. A tick is alloc, write, run, read the slots, free the
// result, the payload and the slots; an execution is create, its ticks on
// that instance, destroy.
import { importsFor } from '../harness/hosts/wasm/stub-imports.ts';

type Fn = (...a: number[]) => number;
export type BareExports = Record<string, Fn> & { memory: WebAssembly.Memory };

/** A registered instance of the pack as it is. */
export function bareInstance(bytes: Uint8Array): BareExports {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  const ex = new WebAssembly.Instance(module, importsFor(module, () => {})).exports as BareExports;
  ex['__reflow_pack_register']!();
  return ex;
}

export function bareTick(ex: BareExports, id: number, payload: Uint8Array): void {
  const p = ex['__reflow_pack_alloc']!(payload.length || 1) >>> 0;
  new Uint8Array(ex.memory.buffer).set(payload, p);
  const slots = ex['__reflow_pack_alloc']!(8) >>> 0;
  ex['__reflow_pack_actor_run']!(id, p, payload.length, slots, slots + 4);
  const view = new DataView(ex.memory.buffer);
  const out = view.getUint32(slots, true);
  const len = view.getUint32(slots + 4, true);
  if (out !== 0) ex['__reflow_pack_free']!(out, Math.max(len, 1));
  ex['__reflow_pack_free']!(p, payload.length || 1);
  ex['__reflow_pack_free']!(slots, 8);
}

export function bareExecution(ex: BareExports, factoryId: number, payloads: readonly Uint8Array[]): void {
  const id = ex['__reflow_pack_create_actor']!(factoryId);
  for (const p of payloads) bareTick(ex, id, p);
  ex['__reflow_pack_destroy_actor']!(id);
}
