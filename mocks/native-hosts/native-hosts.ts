// The native host adapters packcheck is tested against: adapter.c built as
// the reference host and as one variant per defect (a #define each), with
// the ids each variant must fail and the ids it must leave blocked.
import { readFileSync } from 'node:fs';
import { ccBuild } from '../../harness/hosts/native/probes/cc-cache.ts';
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
