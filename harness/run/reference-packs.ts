// The reference packs that `packcheck` with no pack checks. The built package
// ships them prebuilt, as data (dist/reference-packs/, written by
// scripts/build.mjs from packs-under-test/ at prepare and prepack time, with
// the ABI versions they were built for), so an installed packcheck checks the
// Rust packs too on a machine without rustc. A checkout's sources, run
// through tsx, build them from packs-under-test/ instead (cached).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ReferencePack {
  name: string;
  path: string;
  /** The ABI version the pack was built for, when known. */
  expectAbi: number | null;
}

export interface ReferenceSet {
  packs: ReferencePack[];
  /** Reference packs that are not checked here, with why and how to get them. */
  missing: string[];
}

/** dist/reference-packs/index.json: what scripts/build.mjs writes. */
export interface ReferenceIndex {
  packs: { name: string; file: string; expectAbi: number | null; platform?: string }[];
  missing: string[];
}

export const PREBUILT_DIR = new URL('../../reference-packs/', import.meta.url);

export async function referencePacks(): Promise<ReferenceSet> {
  const index = new URL('index.json', PREBUILT_DIR);
  if (existsSync(index)) {
    const data = JSON.parse(readFileSync(index, 'utf8')) as ReferenceIndex;
    const here = `${process.platform}-${process.arch}`;
    const packs: ReferencePack[] = [];
    const missing = [...data.missing];
    for (const p of data.packs) {
      if (p.platform && p.platform !== here) missing.push(`${p.name}: built for ${p.platform}, this is ${here}`);
      else packs.push({ name: p.name, path: fileURLToPath(new URL(p.file, PREBUILT_DIR)), expectAbi: p.expectAbi });
    }
    return { packs, missing };
  }
  // A checkout's sources: built from packs-under-test/ (a file URL, so that
  // the build neither follows nor rewrites it; only the sources have it).
  const source = new URL('../../packs-under-test/reference.ts', import.meta.url);
  if (!existsSync(source)) throw new Error(`packcheck has no reference packs: ${fileURLToPath(index)} is missing (npm run build writes it)`);
  const mod = (await import(source.href)) as { referencePacks(): Promise<ReferenceSet> };
  return mod.referencePacks();
}
