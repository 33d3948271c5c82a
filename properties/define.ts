// One property shape for every family (wasm packs, native packs, JS hosts):
// a catalog id, its statement (from the catalog's one list), the ABI it
// belongs to, and a check run with the family's context. A family adds what
// its runner needs to know (the exports a wasm property calls, the adapter
// calls a host property judges…), never a second id.
import type { StepBroken } from '../harness/abi/errors.ts';
import { STATEMENTS } from './statements.ts';
import type { Outcome } from './types.ts';

export type Abi = 'wasm' | 'vtable' | 'host';

export interface Property<C, Id extends string = string> {
  readonly id: Id;
  /** null when it applies; else the reason to skip, or the broken step that blocks it. */
  skipReason?(ctx: C): string | StepBroken | null;
  /** Runs with the family's context and the property's own id (properties/types.ts, withId). */
  check(ctx: C & { id: string }): Outcome | Promise<Outcome>;
}

export type Defined<P> = P & { readonly abi: Abi; readonly statement: string };

/** A property of a family's battery: its statement is looked up once, from the catalog. */
export function defineProperty<P extends Property<never>>(abi: Abi, p: P): Defined<P> {
  const statement = STATEMENTS[p.id];
  if (!statement) throw new Error(`property ${p.id} has no statement in properties/statements.ts`);
  return Object.freeze({ ...p, abi, statement });
}
