// Reading a path given on the command line and telling what it is, by magic
// bytes, not by extension.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

export type PackKind = 'wasm' | 'elf' | 'mach-o' | 'pe' | 'zip';

/** A path that is not a pack at all: exit code 2 when it is the only one. */
export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadError';
  }
}

export function kindOf(bytes: Uint8Array): PackKind | null {
  const b = bytes;
  if (b.length >= 4 && b[0] === 0x00 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d) return 'wasm';
  if (b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return 'elf';
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return 'zip';
  if (b.length >= 2 && b[0] === 0x4d && b[1] === 0x5a) return 'pe';
  if (b.length >= 4) {
    const m = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(m)) return 'mach-o';
  }
  return null;
}

export interface PackFile {
  path: string;
  bytes: Uint8Array;
  sha256: string;
  kind: PackKind;
}

export async function readPack(path: string): Promise<PackFile> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new LoadError(`${path}: no such file; give the path of a .wasm pack (or run packcheck with no path to check the bundled reference packs)`);
  }
  if (info.isDirectory()) throw new LoadError(`${path} is a directory; give the path of a .wasm pack file`);
  const bytes = new Uint8Array(await readFile(path));
  const kind = kindOf(bytes);
  if (!kind) throw new LoadError(`${path} is not a pack: it is neither a WebAssembly module (\\0asm) nor a shared object nor a .rflpack bundle; give the path of a .wasm pack`);
  return { path, bytes, kind, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const KIND_NAMES: Record<Exclude<PackKind, 'wasm'>, string> = { elf: 'a native (vtable ABI) pack', 'mach-o': 'a Mach-O file', pe: 'a PE file', zip: 'a .rflpack bundle' };

/**
 * The fuzz kit's commands (fuzz, --merge, replay) run the wasm ABI only: a
 * pack of another kind is a LoadError that says what it is and `why` the
 * command needs a .wasm pack.
 */
export async function readWasmPack(path: string, why: string): Promise<PackFile> {
  const file = await readPack(path);
  if (file.kind !== 'wasm') throw new LoadError(`${file.path} is ${KIND_NAMES[file.kind]}, not a .wasm pack; ${why}`);
  return file;
}
