// Who answers for a broken step (PROPERTIES.md, "Attribution"). Every wasm
// call has one id whose statement a trap (or a refused answer) in it
// violates; a property that makes the call for its own purposes is blocked
// by that id instead of failing. A property owns a call's traps when the
// call is among its `checks` (the calls whose behaviour it judges), or when
// the caller named it as the trap's owner.
import { HarnessRefusal, PackTrap, StepBroken } from '../harness/abi/errors.ts';

/** The default owner of a trap in each guarded call. */
export const CALL_OWNER: Readonly<Record<string, string>> = {
  instantiate: 'wasm.load.instantiate',
  reflow_pack_abi_version: 'abi.version.stable',
  __reflow_pack_register: 'wasm.register.status',
  // "On a fresh instance every size up to 64 KiB succeeds", and any answer is 0 or a usable block.
  __reflow_pack_alloc: 'wasm.alloc.bounds',
  // Freeing a host-held block with its size is one of wasm.instance.model's commands that "never trap".
  __reflow_pack_free: 'wasm.instance.model',
  __reflow_pack_create_actor: 'wasm.instance.create',
  __reflow_pack_destroy_actor: 'wasm.instance.destroy',
  // A run on a valid payload; callers running other payloads name their owner (ownedBy).
  __reflow_pack_actor_run: 'wasm.run.valid-payload',
};

/** The owner of a payload kind's traps (PayloadCase.kind prefixes). */
export function payloadOwner(kind: string): string {
  if (kind.startsWith('invalid-utf8')) return 'wasm.run.invalid-utf8';
  if (kind.startsWith('invalid-json')) return 'wasm.run.invalid-json';
  if (kind.startsWith('bad-shape')) return 'wasm.run.bad-shape';
  if (kind.startsWith('large')) return 'wasm.run.large-payload';
  if (kind.startsWith('utf8-edge')) return 'wasm.run.utf8-edges';
  return 'wasm.run.valid-payload';
}

const RUN = '__reflow_pack_actor_run';

/**
 * Runs `f`; a trap in its call `call` (a run, by default) is `owner`'s,
 * unless a more specific owner was already named. Traps in other calls `f`
 * makes (the payload's alloc, say) keep their own owners.
 */
export function ownedBy<T>(owner: string, f: () => T, call: string = RUN): T {
  try {
    return f();
  } catch (e) {
    if ((e instanceof PackTrap || e instanceof HarnessRefusal) && !e.owner && e.callName === call) e.owner = owner;
    throw e;
  }
}

/**
 * The error as the property `id` must report it: a trap or refusal owned by
 * another id becomes a StepBroken naming that id (the property is blocked);
 * anything else is returned as it is.
 */
export function attribute(e: unknown, id: string, checks: readonly string[]): unknown {
  if (!(e instanceof PackTrap || e instanceof HarnessRefusal) || !e.callName) return e;
  const owner = e.owner ?? (checks.includes(e.callName) ? id : CALL_OWNER[e.callName]);
  if (!owner || owner === id) return e;
  const what = e instanceof PackTrap ? e.call : e.callName;
  const detail = e instanceof PackTrap ? `trapped: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}` : e.message;
  return new StepBroken(owner, what, detail);
}

/** Whether a call the harness cut off (a hang) was the property's own checked step. */
export function ownsCall(id: string, checks: readonly string[], callName: string): boolean {
  return checks.includes(callName) || CALL_OWNER[callName] === id;
}
