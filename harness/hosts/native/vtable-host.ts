// The reference host of the vtable ABI, over koffi. It loads the shared
// object, hands `reflow_pack_register` a PackHostVtable whose
// `register_template` is a JS callback, and calls `factory` and `drop`
// through the pointers the pack passed. Pointers are BigInts (koffi 3).
// This runs only inside the child process that isolates native code.
import koffi, { type LibraryHandle } from 'koffi';
import type { TemplateCall } from './vtable-ledger.ts';

export const DEFAULT_ENTRYPOINT = 'reflow_pack_register';

const Vtable = koffi.struct('PackHostVtable', { host_data: 'void *', register_template: 'void *' });
const RegisterTemplateFn = koffi.proto('int32_t RegisterTemplateFn(void *host_data, void *template_id, void *factory, void *drop, void *user_data)');
const FactoryFn = koffi.proto('void *PackFactoryFn(void *user_data)');
const DropFn = koffi.proto('void PackFactoryDropFn(void *user_data)');

let libc: { strlen: (p: bigint) => number | bigint } | null = null;
function strlen(p: bigint): number {
  libc ??= { strlen: koffi.load('libc.so.6').func('size_t strlen(void *s)') as (p: bigint) => number | bigint };
  return Number(libc.strlen(p));
}

/** A pointer argument as a BigInt (0n for NULL, whatever koffi hands over). */
export const ptr = (v: unknown): bigint => (v === null || v === undefined ? 0n : typeof v === 'bigint' ? v : BigInt(v as number));

/** The bytes of a NUL-terminated string (without the NUL), read from native memory. */
export function cStringBytes(p: bigint): Uint8Array {
  const n = strlen(p);
  return n === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(p, n)).slice();
}

export type { TemplateCall };

/** What a host answers a `register_template` call with. */
export type TemplateHandler = (call: TemplateCall) => number;

export interface NativePack {
  path: string;
  entrypoint: string;
  abiVersion(): number;
  /** `register(vtable)`, or `register(NULL)` when `handler` is null. */
  register(hostData: bigint, handler: TemplateHandler | null): number;
  factory(call: TemplateCall): bigint;
  drop(call: TemplateCall): void;
}

export class MissingSymbol extends Error {}

/** dlopen: loads the shared object (its ELF constructors run here); throws with the loader's message. */
export function openLibrary(path: string): LibraryHandle {
  return koffi.load(path);
}

/** Loads the pack: dlopen, then both symbols (a missing one is a MissingSymbol). */
export function loadNativePack(path: string, entrypoint = DEFAULT_ENTRYPOINT): NativePack {
  return bindPack(openLibrary(path), path, entrypoint);
}

/** The pack's two symbols in an opened library; throws MissingSymbol when one is not exported. */
export function bindPack(lib: LibraryHandle, path: string, entrypoint = DEFAULT_ENTRYPOINT): NativePack {
  const symbol = <T>(decl: string, name: string): T => {
    try {
      return lib.func(decl) as T;
    } catch {
      throw new MissingSymbol(`the shared object does not export "${name}"`);
    }
  };
  const abiVersion = symbol<() => number>('uint32_t reflow_pack_abi_version()', 'reflow_pack_abi_version');
  const register = symbol<(v: unknown) => number>(`int32_t ${entrypoint}(PackHostVtable *host)`, entrypoint);
  return {
    path,
    entrypoint,
    abiVersion: () => abiVersion() >>> 0,
    register(hostData, handler) {
      if (!handler) return register(null) | 0;
      let index = 0;
      const cb = koffi.register((hd: unknown, id: unknown, factory: unknown, drop: unknown, ud: unknown) => {
        const idPtr = ptr(id);
        const call: TemplateCall = { index: index++, hostData: ptr(hd), idPtr, idBytes: idPtr === 0n ? null : cStringBytes(idPtr), factory: ptr(factory), drop: ptr(drop), userData: ptr(ud) };
        return handler(call) | 0;
      }, koffi.pointer(RegisterTemplateFn));
      try {
        return register({ host_data: hostData, register_template: cb }) | 0;
      } finally {
        koffi.unregister(cb);
      }
    },
    factory: (call) => ptr(koffi.call(call.factory, FactoryFn, call.userData)),
    drop: (call) => void koffi.call(call.drop, DropFn, call.userData),
  };
}

