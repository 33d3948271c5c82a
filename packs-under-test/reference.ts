// The bundled reference packs: what `packcheck` with no path checks.
import { buildNativeRust, buildRust, buildWat, findRustc, WAT_REFERENCE } from './build.ts';

/** The WAT pack answers the ABI version of Debian's rustc 1.63 (ABI.md's worked example), as if built by it. */
export const WAT_REFERENCE_ABI = 2522422;

export interface BuiltPack {
  name: string;
  path: string;
  /** The ABI version the build pinned, when known (Rust builds). */
  expectAbi: number | null;
}

export interface ReferenceSet {
  packs: BuiltPack[];
  /** Reference packs that could not be built here, with how to get them. */
  missing: string[];
}

export async function referencePacks(): Promise<ReferenceSet> {
  const packs: BuiltPack[] = [{ name: 'wat-reference', path: await buildWat(WAT_REFERENCE, 'wat-reference'), expectAbi: WAT_REFERENCE_ABI }];
  const missing: string[] = [];
  const rustc = findRustc();
  if ('missing' in rustc) missing.push(`rust-reference (wasm32) and native-reference (x86_64 .so): ${rustc.missing}`);
  else {
    packs.push({ name: 'rust-reference', path: buildRust(rustc, 'rust-reference'), expectAbi: rustc.abiVersion });
    if (process.platform === 'linux' && process.arch === 'x64') packs.push({ name: 'native-reference', path: buildNativeRust(rustc, 'native-reference'), expectAbi: rustc.abiVersion });
    else missing.push(`native-reference: the native reference pack is built for x86_64 Linux, this is ${process.platform}/${process.arch}`);
  }
  return { packs, missing };
}
