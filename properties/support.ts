// Small pieces several property families share: reading a tick's answer,
// demanding error JSON, picking factories and ports from what the pack
// registered (never from what our own reference packs happen to do).
import fc from 'fast-check';
import { OUT_SLOT_SENTINEL } from '../harness/abi/abi.ts';
import { checkErrorJson } from '../harness/abi/message-schema.ts';
import { StepBroken, Violation } from '../harness/abi/errors.ts';
import { hex32, showBytes } from '../harness/abi/readable.ts';
import type { Template } from '../harness/abi/registration.ts';
import { describeTickCall, type CheckedWasmHost, type Tick } from '../harness/hosts/wasm/wasm-host.ts';
import type { PropertyContext } from './types.ts';

/** A slot that still holds the harness's pre-filled sentinel. */
export const slotUnwritten = (v: number) => v === OUT_SLOT_SENTINEL;

/** `status -3, out_ptr 1234, out_len 56, result "{…}" (56 bytes)`. */
export function describeAnswer(t: Tick): string {
  if (t.allocFailed) return `(not called: __reflow_pack_alloc returned 0 for the ${t.allocFailed === 'payload' ? 'payload' : '8-byte out-slot'} block)`;
  const slots = `out_ptr ${slotUnwritten(t.outPtr) ? `${hex32(t.outPtr)} (slot not written)` : t.outPtr}, out_len ${slotUnwritten(t.outLen) ? `${hex32(t.outLen)} (slot not written)` : t.outLen}`;
  const result = t.result ? `, result ${showBytes(t.result)}` : t.outPtr !== 0 && !t.resultInBounds ? ', result outside memory' : '';
  return `status ${t.status}, ${slots}${result}`;
}

export function tickCall(t: Tick): string {
  return `${describeTickCall(t)} with payload ${showBytes(t.payload)}`;
}

/** Null when the tick carries error JSON; else why not. */
export function errorJsonProblem(t: Tick): string | null {
  if (t.outPtr === 0) return 'no result (out_ptr = 0)';
  if (!t.result) return 'the result lies outside memory';
  return checkErrorJson(t.result);
}

/**
 * A result of the wrong form. Its place (both slots written, inside memory)
 * is wasm.run.out-slots' statement, its form (error JSON, valid output
 * Messages) wasm.run.output-json's: the properties that judge a status leave
 * the form to them, so one ill-formed answer is one failure.
 */
export function formBroken(t: Tick, problem: string, expected: string): StepBroken {
  const misplaced = slotUnwritten(t.outPtr) || slotUnwritten(t.outLen) || (t.outPtr !== 0 && !t.resultInBounds);
  return new StepBroken(misplaced ? 'wasm.run.out-slots' : 'wasm.run.output-json', tickCall(t), `${describeAnswer(t)}: ${problem}`, expected);
}

/** A non-zero status (this property's statement) with error JSON (output-json's, see formBroken). */
export function demandErrorJson(t: Tick, expected = 'a non-zero status with error JSON {"error": "…"}'): void {
  if (t.status === 0) throw new Violation(tickCall(t), describeAnswer(t), expected);
  const problem = errorJsonProblem(t);
  if (problem) throw formBroken(t, problem, expected);
}

/** Creates an instance of a registered factory: a step, whose failure is wasm.instance.create's. */
export function createLive(host: CheckedWasmHost, factoryId: number): number {
  const id = host.create(factoryId);
  if (id === 0) throw new StepBroken('wasm.instance.create', `__reflow_pack_create_actor(${factoryId})`, `returned 0, but factory ${factoryId} was registered`);
  return id;
}

export function templateArb(ctx: PropertyContext): fc.Arbitrary<Template> {
  const ts = ctx.survey.templates;
  return fc.constantFrom(...ts);
}

/** Properties that need a template are blocked when registration gave none: by the id that says why. */
export function needsTemplates(ctx: PropertyContext): StepBroken | null {
  const s = ctx.survey;
  if (s.templates.length > 0) return null;
  const owner = s.metadataProblems.length > 0 && s.registerStatus !== null ? 'wasm.register.metadata' : 'wasm.register.status';
  const why = s.registerStatus === null ? 'it trapped or hung' : s.metadataProblems.length ? `no registration carried usable metadata (${s.metadataProblems[0]})` : `it answered ${s.registerStatus} after no registration call`;
  return new StepBroken(owner, '__reflow_pack_register() on a fresh instance', `no usable template: ${why}`);
}

/** The payload and slot blocks of a tick are a step (alloc), owned by wasm.alloc.bounds when a small block fails. */
export function refuseAllocFailure(t: Tick): void {
  if (!t.allocFailed) return;
  if (t.payload.length <= 65536)
    throw new StepBroken('wasm.alloc.bounds', `__reflow_pack_alloc(${t.allocFailed === 'payload' ? Math.max(t.payload.length, 1) : 8})`, `returned 0 for the ${t.allocFailed === 'payload' ? 'payload' : 'out-slot'} block of a tick (every size up to 64 KiB must succeed on a fresh instance)`);
  throw new Violation(tickCall(t), describeAnswer(t), `blocks for a ${t.payload.length}-byte payload: a fresh instance must be able to allocate them`);
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Factory ids the pack did not register: n, n+1, 2^31-1, 2^32-1, and random ones beyond n. */
export function unregisteredFactoryArb(n: number): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(n, n + 1, 0x7fffffff, 0xffffffff), fc.integer({ min: n, max: 0xffffffff }));
}
