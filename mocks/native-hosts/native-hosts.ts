// The native host adapters packcheck is tested against: adapter.c built as
// the reference host and as one variant per defect (a #define each), with
// the ids each variant must fail and the ids it must leave blocked; and
// rust_adapter.rs, the same reference host in Rust, which takes and drops
// the actor handles the probe packs' factories return.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abiVersionFromRustcVV } from '../../harness/abi/abi.ts';
import { ccBuild } from '../../harness/hosts/native/probes/cc-cache.ts';
import { cacheDir } from '../../harness/run/cache-dir.ts';
import type { Rustc } from '../../packs-under-test/build.ts';
import { NHOST_PROPERTY_IDS } from '../../properties/catalog.ts';

const SOURCE = readFileSync(new URL('./adapter.c', import.meta.url), 'utf8');

/** The ABI version the test adapters are built with (Debian rustc 1.63's, ABI.md's worked example). */
export const TEST_HOST_ABI = 2522422;

export interface NativeHostSpec {
  name: string;
  /** The adapter.c #define that makes the defect (none for the reference host). */
  define?: string;
  defect: string;
  /** Exactly these ids fail (harness.* included). */
  mustFail: readonly string[];
  /** Exactly these ids are skipped with blockedBy. */
  blocked?: readonly string[];
  /** Exactly these are skipped with a reason and no blockedBy. */
  skipped?: readonly string[];
  /** Exactly these are errored (the adapter broke its own contract). */
  errored?: readonly string[];
}

const ALL_BUT_LOAD = NHOST_PROPERTY_IDS.filter((i) => i !== 'nhost.load.conforming');

export const REFERENCE_HOST: NativeHostSpec = { name: 'reference', defect: 'none: the reference native host', mustFail: [] };

export const BROKEN_HOSTS: readonly NativeHostSpec[] = [
  { name: 'drop-rejected', define: 'DROP_REJECTED', defect: 'calls drop on a Duplicate answer (upstream: the record is built before the duplicate check)', mustFail: ['nhost.drop.rejected'] },
  { name: 'free-rejected', define: 'FREE_REJECTED', defect: 'frees the user_data of a Duplicate registration itself (seen only by the allocation tracker)', mustFail: ['nhost.drop.rejected'] },
  { name: 'keep-failed', define: 'KEEP_FAILED', defect: 'keeps the templates of a load whose register failed', mustFail: ['nhost.load.rollback'] },
  { name: 'no-version-check', define: 'NO_VERSION_CHECK', defect: 'never asks reflow_pack_abi_version', mustFail: ['nhost.version.checked'] },
  { name: 'accept-null-id', define: 'ACCEPT_NULL_ID', defect: 'answers 0 to a null template id', mustFail: ['nhost.register.rejects'] },
  { name: 'drop-twice', define: 'DROP_TWICE', defect: 'calls drop twice per registration at unload', mustFail: ['nhost.drop.once'] },
  { name: 'crash-null-factory', define: 'CALL_FACTORY_RESULT', defect: 'reads through the handle a factory returns: NULL is a segfault', mustFail: ['nhost.factory.null', 'harness.crash'] },
  { name: 'by-basename', define: 'BY_BASENAME', defect: 'takes a pack whose file name it has seen for the pack it loaded', mustFail: ['nhost.pack.identity'] },
  { name: 'moving-host-data', define: 'MOVING_HOST_DATA', defect: 'changes vtable.host_data between register_template calls', mustFail: ['nhost.vtable.valid'] },
  { name: 'no-templates', define: 'NO_TEMPLATES', defect: 'never reports its template events', mustFail: ['nhost.load.conforming'], blocked: ALL_BUT_LOAD },
  { name: 'no-unload', define: 'NO_UNLOAD', defect: 'never unloads: drop is never exercised', mustFail: [], skipped: ['nhost.drop.once'] },
  { name: 'hang', define: 'HANG', defect: 'never finishes its first load', mustFail: ['nhost.load.conforming', 'harness.timeout'], blocked: ALL_BUT_LOAD },
  { name: 'crash', define: 'CRASH', defect: 'segfaults after its first load', mustFail: ['nhost.load.conforming', 'harness.crash'], blocked: ALL_BUT_LOAD },
  { name: 'malformed-events', define: 'MALFORMED_EVENTS', defect: 'writes an events line that is not JSON', mustFail: [], errored: ['nhost.load.conforming'], skipped: ALL_BUT_LOAD },
  { name: 'drop-preload', define: 'DROP_PRELOAD', defect: 're-executes itself without LD_PRELOAD: the allocation tracker is not in its process', mustFail: [], errored: ['nhost.load.conforming'], skipped: ALL_BUT_LOAD },
  {
    name: 'upstream',
    define: 'UPSTREAM',
    defect: "upstream's native loader as ABI.md describes it: drop on Duplicate, templates kept from a failed load, packs keyed by file name, no unload",
    mustFail: ['nhost.drop.rejected', 'nhost.load.rollback', 'nhost.pack.identity'],
    skipped: ['nhost.drop.once'],
  },
];

/** Builds (or finds in the cache) one adapter executable; its path. */
export function buildNativeHost(spec: NativeHostSpec, hostAbi = TEST_HOST_ABI): string {
  const defines = [`#define HOST_ABI ${hostAbi}u`, ...(spec.define ? [`#define ${spec.define}`] : [])];
  return ccBuild({ source: `${defines.join('\n')}\n${SOURCE}`, flags: ['-O1', '-Wall', '-Werror'], libs: ['-ldl'], fileName: `nhost-adapter-${spec.name}`, under: 'nhost-adapters' });
}

const RUST_ADAPTER = new URL('./rust_adapter.rs', import.meta.url);

/** A rustc that builds executables for this machine: its path and `rustc -vV` (the build depends on both). */
export type AdapterRustc = Pick<Rustc, 'path' | 'versionText'>;

/**
 * Builds (or finds in the cache) rust_adapter.rs as an executable: the Rust
 * native host, compiled in with `hostAbi` (by default the ABI version of the
 * rustc that builds it, as a Rust runtime's is). `mutant` is a `--cfg
 * mutant="…"` of its own. Cached by the content of the source, the rustc and
 * the flags, like the C adapters; a build error throws with rustc's message.
 */
export function buildRustAdapter(rustc: AdapterRustc, hostAbi = abiVersionFromRustcVV(rustc.versionText), mutant?: string): string {
  const source = readFileSync(RUST_ADAPTER);
  const flags = ['--edition', '2021', '-O', '--crate-name', 'rust_adapter', ...(mutant ? ['--cfg', `mutant="${mutant}"`] : [])];
  const key = createHash('sha256').update(source).update(`\0${rustc.versionText}\0${flags.join(' ')}\0${hostAbi >>> 0}`).digest('hex').slice(0, 16);
  const dir = join(cacheDir('nhost-adapters'), key);
  const out = join(dir, `rust-adapter${mutant ? `-${mutant}` : ''}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    execFileSync(rustc.path, [...flags, '-o', tmp, fileURLToPath(RUST_ADAPTER)], { env: { ...process.env, PACKCHECK_HOST_ABI: String(hostAbi >>> 0) }, stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, out); // atomic: two test files may build it at once, to the same bytes
  } finally {
    rmSync(tmp, { force: true });
  }
  return out;
}
