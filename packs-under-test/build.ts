// Builds the packs under test from source, cached by content hash under
// the cache directory's packs/ (harness/run/cache-dir.ts; never committed). WAT needs only wabt
// from npm; Rust needs Debian's rustc with the wasm32 std (apt: rustc
// libstd-rust-dev-wasm32), or PACKCHECK_RUSTC pointing at one like it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abiVersionFromRustcVV } from '../harness/abi/abi.ts';
import { cacheDir } from '../harness/run/cache-dir.ts';
import { watToWasm } from '../harness/hosts/js/wat.ts';

export { watToWasm };

export const PACKS_DIR = dirname(fileURLToPath(import.meta.url));
const CACHE = cacheDir('packs');
export const RUST_REFERENCE = join(PACKS_DIR, 'rust', 'reference_pack.rs');
export const WAT_REFERENCE = join(PACKS_DIR, 'wat', 'reference.wat');
export const RUST_NATIVE_REFERENCE = join(PACKS_DIR, 'rust', 'native_pack.rs');

const hash = (...parts: (string | Uint8Array)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
};

function cached(name: string, key: string, build: (out: string) => void, ext = 'wasm'): string {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${name}-${key}.${ext}`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  build(tmp);
  renameSync(tmp, out); // atomic: parallel test files may build the same pack
  return out;
}

/** A text replacement that turns a reference source into a mutant; `from` must occur exactly once. */
export type Patch = readonly [from: string, to: string];

export function applyPatches(source: string, patches: readonly Patch[], what: string): string {
  let s = source;
  for (const [from, to] of patches) {
    const at = s.indexOf(from);
    if (at < 0 || s.indexOf(from, at + 1) >= 0) throw new Error(`${what}: the patch text ${JSON.stringify(from.slice(0, 60))} must occur exactly once in the source`);
    s = s.slice(0, at) + to + s.slice(at + from.length);
  }
  return s;
}

/** Compiles a WAT file (optionally patched into a mutant); returns the cached .wasm path. */
export async function buildWat(src: string, name: string, patches: readonly Patch[] = []): Promise<string> {
  const text = applyPatches(readFileSync(src, 'utf8'), patches, name);
  const key = hash('wat', text);
  const out = join(CACHE, `${name}-${key}.wasm`);
  if (existsSync(out)) return out;
  const bytes = await watToWasm(text, `${name}.wat`);
  return cached(name, key, (tmp) => writeFileSync(tmp, bytes));
}

export interface Rustc {
  path: string;
  /** `rustc -vV` exactly as printed: it fixes the ABI version. */
  versionText: string;
  abiVersion: number;
}

/** Debian's rustc with the wasm32 std, or null with the reason. */
export function findRustc(): Rustc | { missing: string } {
  const path = process.env.PACKCHECK_RUSTC ?? '/usr/bin/rustc';
  let versionText: string;
  try {
    versionText = execFileSync(path, ['-vV'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const sysroot = execFileSync(path, ['--print', 'sysroot'], { encoding: 'utf8' }).trim();
    const libs = [join(sysroot, 'lib', 'rustlib', 'wasm32-unknown-unknown'), '/usr/lib/rustlib/wasm32-unknown-unknown'];
    if (!libs.some((l) => existsSync(l))) return { missing: `${path} has no wasm32-unknown-unknown std (apt-get install libstd-rust-dev-wasm32)` };
  } catch {
    return { missing: `no rustc at ${path} (apt-get install rustc libstd-rust-dev-wasm32, or set PACKCHECK_RUSTC)` };
  }
  return { path, versionText, abiVersion: abiVersionFromRustcVV(versionText) };
}

/** Compiles the Rust reference pack, or one of its cfg mutants. */
export function buildRust(rustc: Rustc, name: string, mutant?: string, src = RUST_REFERENCE): string {
  const flags = ['--edition', '2021', '--crate-type', 'cdylib', '--target', 'wasm32-unknown-unknown', '--crate-name', 'reference_pack'];
  flags.push('-C', 'opt-level=2', '-C', 'panic=abort', '-C', 'debuginfo=0', '-C', 'strip=debuginfo');
  if (mutant) flags.push('--cfg', `mutant="${mutant}"`);
  const key = hash('rust', readFileSync(src), rustc.versionText, ...flags);
  return cached(name, key, (tmp) => {
    execFileSync(rustc.path, [...flags, '-o', tmp, src], { env: { ...process.env, PACKCHECK_ABI_VERSION: String(rustc.abiVersion) }, stdio: ['ignore', 'ignore', 'pipe'] });
  });
}

/** Compiles the native (vtable ABI) Rust reference pack, or one of its cfg mutants, as an x86_64 cdylib. */
export function buildNativeRust(rustc: Rustc, name: string, mutant?: string): string {
  const flags = ['--edition', '2021', '--crate-type', 'cdylib', '--crate-name', 'native_pack', '-C', 'opt-level=2', '-C', 'debuginfo=0'];
  if (mutant) flags.push('--cfg', `mutant="${mutant}"`);
  const key = hash('native', readFileSync(RUST_NATIVE_REFERENCE), rustc.versionText, ...flags);
  return cached(
    name,
    key,
    (tmp) => {
      // missing-dep links against a stub library built in a temporary folder that is then deleted.
      const stubDir = mutant === 'missing-dep' ? buildMissingDepStub(rustc) : null;
      try {
        const link = stubDir ? ['-L', `native=${stubDir}`] : [];
        execFileSync(rustc.path, [...flags, ...link, '-o', tmp, RUST_NATIVE_REFERENCE], { env: { ...process.env, PACKCHECK_ABI_VERSION: String(rustc.abiVersion) }, stdio: ['ignore', 'ignore', 'pipe'] });
      } finally {
        if (stubDir) rmSync(stubDir, { recursive: true, force: true });
      }
    },
    'so',
  );
}

/** A folder holding libpackcheck_missing_dep.so (one exported function); the caller deletes it. */
function buildMissingDepStub(rustc: Rustc): string {
  const dir = mkdtempSync(join(tmpdir(), 'packcheck-missing-dep-'));
  const src = join(dir, 'stub.rs');
  writeFileSync(src, '#[no_mangle]\npub extern "C" fn packcheck_missing_dep() -> u32 { 0 }\n');
  execFileSync(rustc.path, ['--edition', '2021', '--crate-type', 'cdylib', '--crate-name', 'packcheck_missing_dep', '-o', join(dir, 'libpackcheck_missing_dep.so'), src], { stdio: ['ignore', 'ignore', 'pipe'] });
  return dir;
}

/** Builds a mutant of the manifest; Rust mutants need a rustc (null: not buildable here). */
export async function buildMutant(spec: { name: string; source: 'rust' | 'wat' | 'native'; cfg?: string; patches?: readonly Patch[] }, rustc: Rustc | null): Promise<string | null> {
  if (spec.source === 'wat') return buildWat(WAT_REFERENCE, spec.name, spec.patches ?? []);
  if (!rustc) return null;
  return spec.source === 'native' ? buildNativeRust(rustc, spec.name, spec.cfg) : buildRust(rustc, spec.name, spec.cfg);
}
