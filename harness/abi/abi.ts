// The ABI's constants, in one place (../shared/ABI.md is the source of truth).

/** Export and import names of the wasm ABI. */
export const WASM_EXPORTS = {
  memory: 'memory',
  abiVersion: 'reflow_pack_abi_version',
  register: '__reflow_pack_register',
  alloc: '__reflow_pack_alloc',
  free: '__reflow_pack_free',
  create: '__reflow_pack_create_actor',
  destroy: '__reflow_pack_destroy_actor',
  run: '__reflow_pack_actor_run',
} as const;

export type WasmCallName = Exclude<keyof typeof WASM_EXPORTS, 'memory'>;

/** Required function signatures: param and result value types. */
export const WASM_SIGNATURES: Record<WasmCallName, { params: string[]; results: string[] }> = {
  abiVersion: { params: [], results: ['i32'] },
  register: { params: [], results: ['i32'] },
  alloc: { params: ['i32'], results: ['i32'] },
  free: { params: ['i32', 'i32'], results: [] },
  create: { params: ['i32'], results: ['i32'] },
  destroy: { params: ['i32'], results: [] },
  run: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
};

export const REGISTER_IMPORT = { module: 'env', name: '__reflow_pack_register_template' } as const;
export const REGISTER_IMPORT_SIGNATURE = { params: ['i32', 'i32', 'i32'], results: [] as string[] };

/** Status codes of `__reflow_pack_actor_run` (0.2.1). */
export const RunStatus = {
  Ok: 0,
  UnknownInstance: -1,
  NotUtf8: -2,
  ParseError: -3,
  ActorError: -4,
  SerializeError: -5,
} as const;

/** Statuses a run may answer because of the payload itself (not the actor). */
export const PAYLOAD_REJECTIONS: readonly number[] = [RunStatus.UnknownInstance, RunStatus.NotUtf8, RunStatus.ParseError];

/** `__reflow_pack_register` answers. */
export const WasmRegisterStatus = { Ok: 0, Panic: -99 } as const;

/** `PackRegisterStatus` of the vtable ABI. */
export const PackRegisterStatus = {
  Ok: 0,
  NullArg: -1,
  BadUtf8: -2,
  Duplicate: -3,
  Internal: -99,
} as const;

export const WASM_PAGE = 65536;
export const MIB = 1024 * 1024;
/** The out-slot sentinel: no correct pack writes it (no result can end past 4 GiB). */
export const OUT_SLOT_SENTINEL = 0xffffffff;
export const ALLOC_ALIGN = 8;

/** Upstream's manually bumped revision, hashed after the `rustc -vV` bytes. */
export const PACK_ABI_REVISION = 1;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(bytes: Uint8Array, hash = FNV_OFFSET): number {
  let h = hash;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h >>> 0;
}

/** The ABI version a pack built by the rustc that printed `rustcVV` (`rustc -vV`, exact bytes) reports. */
export function abiVersionFromRustcVV(rustcVV: Uint8Array | string, revision = PACK_ABI_REVISION): number {
  const bytes = typeof rustcVV === 'string' ? new TextEncoder().encode(rustcVV) : rustcVV;
  const rev = new Uint8Array(4);
  new DataView(rev.buffer).setUint32(0, revision, true);
  return fnv1a(rev, fnv1a(bytes));
}

export { fnv1a };
