// The vtable ABI's ledger: what a host saw of one native load, call by
// call (the wasm ABI has its own, harness/hosts/wasm/ledger.ts). Pointers are BigInts.

/** One `register_template` call of the vtable ABI as the host saw it (pointers as BigInts). */
export interface TemplateCall {
  index: number;
  hostData: bigint;
  idPtr: bigint;
  /** The id's bytes up to its NUL (null when the pointer was NULL). */
  idBytes: Uint8Array | null;
  factory: bigint;
  drop: bigint;
  userData: bigint;
}

/** A `register_template` call with the host's answer and what became of its user_data. */
export interface VtableRegistration extends TemplateCall {
  answer: number;
  /** The allocation `user_data` was at call time (tracker sequence number), 0n when untracked. */
  userDataSeq: bigint;
  /** Set once the host has called `drop` for it. */
  dropped: boolean;
}


/** The registrations of one load, in call order, as a mock host records them. */
export class VtableLedger {
  readonly registrations: VtableRegistration[] = [];
}
