// Checks a `.rflpack` bundle: the archive itself (bundle.manifest.schema,
// bundle.paths.safe, bundle.targets.present), then every target this machine
// can load, each through its own ABI's battery plus bundle.abi.match and
// bundle.templates.match. Targets are written, under names of our own, into a
// fresh temporary directory that is removed afterwards; nothing else is ever
// written, and no path from the archive is ever joined to a directory.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkNativePack } from '../native-runner.ts';
import { DEFAULT_ENTRYPOINT } from '../../hosts/native/vtable-host.ts';
import { LoadError, readPack, type PackFile } from '../pack-file.ts';
import { replayLine, shellWord } from '../replay.ts';
import { packReport, type PackInfo, type PackReport, type PropertyResult } from '../../report/model.ts';
import { ResultCollector } from '../results.ts';
import { checkWasmPack, selectFrom, type RunnerOptions } from '../wasm-runner.ts';
import { expectedKind, kindProblem, MANIFEST_NAME, parseManifest, pathProblem, WASM_TRIPLE, type BundleManifest, type BundleTarget } from './manifest.ts';
import { isReadFailure, openBundle, type Bundle, type BundleEntry, type BundleLimits, type ReadFailure } from './reader.ts';
import { BUNDLE_PROPERTY_IDS, VTABLE_PROPERTY_IDS, WASM_PROPERTY_IDS, type BundlePropertyId } from '../../../properties/catalog.ts';
import type { CheckOptions, Outcome } from '../../../properties/types.ts';
import type { Sample } from '../../hosts/wasm/ledger.ts';

export type BundleRunnerOptions = RunnerOptions & {
  /** Check only this target triple (archive-level results are still reported). */
  target?: string;
  /** Overrides the manifest's `entrypoint` for native targets. */
  entrypoint?: string;
  /** Reader limits (tests); the defaults of reader.ts otherwise. */
  limits?: Partial<BundleLimits>;
};

const ARCHIVE_IDS = ['bundle.manifest.schema', 'bundle.paths.safe', 'bundle.targets.present'] as const;
const TARGET_IDS = ['bundle.abi.match', 'bundle.templates.match'] as const;
const ORDER: readonly string[] = [...BUNDLE_PROPERTY_IDS, 'harness.load'];

type Runner = 'wasm' | 'native';

/** How this machine runs a triple's binary, or why it cannot. */
export function loaderFor(triple: string): { runner: Runner } | { why: string } {
  if (triple === WASM_TRIPLE) return { runner: 'wasm' };
  const native = process.platform === 'linux' && process.arch === 'x64' ? 'x86_64-unknown-linux-gnu' : process.platform === 'linux' && process.arch === 'arm64' ? 'aarch64-unknown-linux-gnu' : null;
  if (triple === native) return { runner: 'native' };
  return { why: `this machine (${process.platform}/${process.arch}) loads ${[WASM_TRIPLE, ...(native ? [native] : [])].join(' and ')} binaries, not ${triple}` };
}

const list = (xs: readonly string[]) => (xs.length ? `[${xs.map((x) => JSON.stringify(x)).join(', ')}]` : 'none');
const quote = (s: string) => JSON.stringify(s);

/** What the archive-level pass found about one target. */
interface TargetState {
  target: BundleTarget;
  /** Why its path is unsafe (bundle.paths.safe), if it is. */
  unsafe?: string;
  /** Why it fails bundle.targets.present, if it does. */
  absent?: string;
  /** Passed bundle.targets.present without its kind being checked (a triple of no known family). */
  kindUnchecked?: boolean;
  bytes?: Uint8Array;
}

export async function checkBundle(file: PackFile, opts: BundleRunnerOptions): Promise<PackReport> {
  const t0 = performance.now();
  const options: CheckOptions = { seed: opts.seed, runs: opts.runs, path: opts.path, timeoutMs: opts.timeoutMs, profile: opts.profile, expectAbi: opts.expectAbi };
  const runOptions = { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile };
  const selected = new Set<string>(selectFrom(BUNDLE_PROPERTY_IDS, opts.only, opts.skip));
  const tagged = (target: string | null) => (r: PropertyResult) => {
    r.target = target;
    opts.onResult?.(r);
  };
  const archive = new ResultCollector(file.path, options, tagged(null));
  /** Archive-level failures are reported even when deselected: they stop the rest of the check. */
  const record = (c: ResultCollector, id: BundlePropertyId, o: Outcome, ms: number) => {
    if (selected.has(id) || (o.status === 'failed' && (ARCHIVE_IDS as readonly string[]).includes(id))) c.record(id, o, ms);
  };
  const pack: PackInfo = { path: file.path, sha256: file.sha256, abi: 'bundle', abiVersion: null, templates: [], imports: [], targets: [] };
  const finish = (results: PropertyResult[], timeline?: Sample[]) => {
    const rep = packReport(pack, runOptions, results, t0);
    return timeline ? { ...rep, timeline } : rep;
  };

  // --- Read: the central directory, manifest.json, the targets' files. ---
  const r0 = performance.now();
  const opened = await openBundle(file.bytes, opts.limits);
  let bundle: Bundle | null = isReadFailure(opened) ? null : opened;
  try {
    let refused: ReadFailure | null = isReadFailure(opened) ? opened : null;
    let manifest: BundleManifest | null = null;
    let schemaProblems: string[] = [];
    const states: TargetState[] = [];
    if (bundle) {
      const found = bundle.find(MANIFEST_NAME);
      const m = found[0];
      if (!m) schemaProblems = [`there is no ${MANIFEST_NAME} at the archive's root (its ${bundle.entries.length} entries: ${list(bundle.entries.slice(0, 8).map((e) => e.name))}${bundle.entries.length > 8 ? ', …' : ''})`];
      else if (found.length > 1) schemaProblems = [`${MANIFEST_NAME} occurs ${found.length} times in the archive; which one a loader reads is not defined`];
      else if (m.isSymlink || m.isDirectory) schemaProblems = [`${MANIFEST_NAME} is a ${m.isSymlink ? 'symlink' : 'directory'} entry, expected a file`];
      else {
        const bytes = await bundle.read(m);
        if (isReadFailure(bytes)) refused = bytes;
        else {
          const parsed = parseManifest(bytes);
          if (parsed.ok) manifest = parsed.manifest;
          else schemaProblems = parsed.problems;
        }
      }
      if (manifest && !refused) {
        if (opts.target !== undefined && !manifest.targets.some((t) => t.triple === opts.target))
          throw new LoadError(`${file.path}: --target ${opts.target}: the bundle has no such target; its targets are ${manifest.targets.map((t) => t.triple).join(', ')}`);
        for (const target of manifest.targets) {
          const s: TargetState = { target };
          states.push(s);
          const entries = bundle.find(target.file);
          s.unsafe = pathProblem(target.file) ?? (entries.some((e) => e.isSymlink) ? 'names a symlink entry' : undefined);
          if (s.unsafe) continue;
          const kind = expectedKind(target.triple);
          if (entries.length === 0) s.absent = `${target.triple}: ${quote(target.file)} is not in the archive`;
          else if (entries.length > 1) s.absent = `${target.triple}: ${quote(target.file)} occurs ${entries.length} times in the archive; which one a loader reads is not defined`;
          else if (entries[0]!.isDirectory) s.absent = `${target.triple}: ${quote(target.file)} is a directory entry, expected a file`;
          else {
            const bytes = await bundle.read(entries[0]!);
            if (isReadFailure(bytes)) {
              refused = bytes;
              break;
            }
            s.bytes = bytes;
            const why = kindProblem(target.triple, bytes);
            if (why) s.absent = `${target.triple}: ${quote(target.file)} ${why}`;
            else if (!kind) s.kindUnchecked = true;
          }
        }
      }
    }
    const readMs = performance.now() - r0;

    // --- The archive-level results. ---
    if (refused || !bundle) {
      const f = refused!;
      const what = f.failure === 'limit' ? "the archive is past the reader's limits" : 'the archive is corrupt';
      record(archive, 'bundle.manifest.schema', { status: 'failed', runs: 1, message: `${what}: ${f.message}; it was refused before anything was extracted (a hostile or broken bundle)`, counterexample: { refused: f.failure, reason: f.message } }, readMs);
      for (const id of BUNDLE_PROPERTY_IDS.slice(1)) record(archive, id, { status: 'skipped', runs: 0, message: 'not evaluated: the archive was refused (see bundle.manifest.schema)' }, 0);
      return finish(archive.ordered(ORDER));
    }

    if (manifest) {
      pack.abiVersion = manifest.abiVersion;
      pack.templates = manifest.templates.map((name, factoryId) => ({ name, factoryId, inports: [], outports: [] }));
    }
    pack.targets = states.map((s) => ({
      triple: s.target.triple,
      file: s.target.file,
      abi: s.unsafe || s.absent ? null : expectedKind(s.target.triple) === 'wasm' ? ('wasm' as const) : s.kindUnchecked ? null : ('vtable' as const),
      abiVersion: null,
    }));

    record(
      archive,
      'bundle.manifest.schema',
      manifest
        ? { status: 'passed', runs: 1 }
        : { status: 'failed', runs: 1, message: `${MANIFEST_NAME} does not have the fields of ABI.md with their types:\n    ${schemaProblems.join('\n    ')}`, counterexample: { problems: schemaProblems } },
      readMs,
    );

    const unsafe = pathFindings(bundle.entries, states);
    record(
      archive,
      'bundle.paths.safe',
      unsafe.length
        ? { status: 'failed', runs: 1, message: `the bundle names ${unsafe.length} unsafe path${unsafe.length > 1 ? 's' : ''} (a loader that joins them to its directory writes or reads outside it):\n    ${unsafe.map((u) => `${u.where} ${quote(u.path)} ${u.problem}`).join('\n    ')}${manifest ? '' : `\n    (targets[…].file not checked: ${MANIFEST_NAME} is not valid)`}`, counterexample: unsafe }
        : { status: 'passed', runs: 1, ...(manifest ? {} : { message: `entry names checked; targets[…].file not checked: ${MANIFEST_NAME} is not valid` }) },
      0,
    );

    if (!manifest) {
      for (const id of BUNDLE_PROPERTY_IDS.slice(2)) record(archive, id, { status: 'skipped', runs: 0, message: `not evaluated: ${MANIFEST_NAME} does not parse or has the wrong types (see bundle.manifest.schema)` }, 0);
      return finish(archive.ordered(ORDER));
    }

    const evaluated = states.filter((s) => !s.unsafe);
    const absent = evaluated.filter((s) => s.absent);
    const notes = [
      ...states.filter((s) => s.unsafe).map((s) => `${s.target.triple} not evaluated: its path fails bundle.paths.safe`),
      ...evaluated.filter((s) => s.kindUnchecked).map((s) => `${s.target.triple}: a triple of no family ABI.md names, so only the file's presence was checked`),
    ];
    if (evaluated.length === 0) record(archive, 'bundle.targets.present', { status: 'skipped', runs: 0, message: `not evaluated: every target's path fails bundle.paths.safe` }, 0);
    else
      record(
        archive,
        'bundle.targets.present',
        absent.length
          ? { status: 'failed', runs: 1, message: `${absent.length} of ${states.length} target${states.length > 1 ? 's' : ''} cannot be loaded from the archive:\n    ${[...absent.map((s) => s.absent!), ...notes].join('\n    ')}`, counterexample: absent.map((s) => ({ triple: s.target.triple, file: s.target.file, problem: s.absent })) }
          : { status: 'passed', runs: 1, ...(notes.length ? { message: notes.join('; ') } : {}) },
        0,
      );

    // --- The targets. ---
    const considered = states.filter((s) => !s.unsafe && !s.absent && (opts.target === undefined || s.target.triple === opts.target));
    if (considered.length === 0) {
      const why = opts.target !== undefined ? `target ${opts.target} fails bundle.paths.safe or bundle.targets.present` : 'no target passes bundle.paths.safe and bundle.targets.present';
      for (const id of TARGET_IDS) record(archive, id, { status: 'skipped', runs: 0, message: `not evaluated: ${why}` }, 0);
      return finish(archive.ordered(ORDER));
    }
    if (manifest.templates.length === 0) record(archive, 'bundle.templates.match', { status: 'skipped', runs: 0, message: `the manifest lists no templates` }, 0);

    const results = archive.ordered(ORDER);
    let timeline: Sample[] | undefined;
    let dir: string | null = null;
    try {
      for (const [i, s] of considered.entries()) {
        const { triple, file: inside } = s.target;
        const loader = loaderFor(triple);
        const entrypoint = opts.entrypoint ?? manifest.entrypoint;
        const extra = ['--target', shellWord(triple), ...('runner' in loader && loader.runner === 'native' && entrypoint !== DEFAULT_ENTRYPOINT ? ['--entrypoint', shellWord(entrypoint)] : [])];
        const mine = new ResultCollector(file.path, options, tagged(triple), extra);
        if ('why' in loader) {
          record(mine, 'bundle.abi.match', { status: 'skipped', runs: 0, message: `not evaluated: ${loader.why}` }, 0);
          if (manifest.templates.length) record(mine, 'bundle.templates.match', { status: 'skipped', runs: 0, message: `not evaluated: ${loader.why}` }, 0);
          results.push(...mine.ordered(ORDER));
          continue;
        }
        const battery = selectFrom(loader.runner === 'wasm' ? WASM_PROPERTY_IDS : VTABLE_PROPERTY_IDS, opts.only, opts.skip);
        if (battery.length === 0 && !selected.has('bundle.abi.match') && !(selected.has('bundle.templates.match') && manifest.templates.length)) continue;

        dir ??= await mkdtemp(join(tmpdir(), 'packcheck-bundle-'));
        // Our own name, never the archive's: the archive's path is only ever a label.
        const tmpPath = join(dir, `target-${i}.${loader.runner === 'wasm' ? 'wasm' : 'so'}`);
        await writeFile(tmpPath, s.bytes!, { mode: 0o600, flag: 'wx' });
        const label = `${file.path} (${inside})`;
        const adopted = new WeakSet<PropertyResult>();
        const adopt = (r: PropertyResult) => {
          if (adopted.has(r)) return;
          adopted.add(r);
          r.target = triple;
          if (r.message) r.message = r.message.replaceAll(tmpPath, label);
          if (r.replay) r.replay = [replayLine(file.path, r.id, options, r.path), ...extra].join(' ');
          opts.onResult?.(r);
        };
        const targetOpts = { ...opts, onResult: adopt };
        const t1 = performance.now();
        let rep: PackReport | LoadError;
        try {
          rep = loader.runner === 'wasm' ? await checkWasmPack(await readPack(tmpPath), targetOpts) : await checkNativePack(await readPack(tmpPath), { ...targetOpts, entrypoint });
        } catch (e) {
          if (!(e instanceof LoadError)) throw e;
          rep = e;
        }
        const took = performance.now() - t1;
        if (rep instanceof LoadError) {
          mine.record('harness.load', { status: 'failed', runs: 1, message: `${triple}: ${rep.message.replaceAll(tmpPath, label)}` }, took);
          for (const id of TARGET_IDS) if (id !== 'bundle.templates.match' || manifest.templates.length) record(mine, id, { status: 'skipped', runs: 0, message: `not evaluated: the target could not be loaded (see harness.load)` }, 0);
          results.push(...mine.ordered(ORDER));
          continue;
        }
        const entry = pack.targets.find((t) => t.triple === triple);
        if (entry) entry.abiVersion = rep.pack.abiVersion;
        if (rep.timeline) timeline ??= rep.timeline;
        record(mine, 'bundle.abi.match', abiMatch(s.target, rep, manifest), 0);
        if (manifest.templates.length) record(mine, 'bundle.templates.match', templatesMatch(s.target, rep, manifest), 0);
        for (const r of rep.results) adopt(r);
        results.push(...mine.ordered(ORDER), ...rep.results);
      }
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
    return finish(results, timeline);
  } finally {
    bundle?.close();
    bundle = null;
  }
}

interface PathFinding {
  where: string;
  path: string;
  problem: string;
}

function pathFindings(entries: readonly BundleEntry[], states: readonly TargetState[]): PathFinding[] {
  const out: PathFinding[] = [];
  for (const e of entries) {
    const problems = [pathProblem(e.name), e.rawName !== undefined ? pathProblem(e.rawName) : null, e.rawHasNul && !e.name.includes('\0') ? 'contains a NUL' : null, e.isSymlink ? 'is a symlink entry' : null];
    for (const p of new Set(problems.filter((x): x is string => x !== null))) out.push({ where: 'entry', path: e.name, problem: p });
  }
  for (const s of states) if (s.unsafe) out.push({ where: `targets[${quote(s.target.triple)}].file`, path: s.target.file, problem: s.unsafe });
  return out;
}

function abiMatch(t: BundleTarget, rep: PackReport, manifest: BundleManifest): Outcome {
  const got = rep.pack.abiVersion;
  const call = `reflow_pack_abi_version() of target ${t.triple} (${t.file})`;
  if (got === manifest.abiVersion) return { status: 'passed', runs: 1 };
  if (got === null)
    return { status: 'failed', runs: 1, message: `${call}\n    returned: nothing (the export is missing or the call failed; see the target's abi.version.stable and shape results)\n    expected: ${manifest.abiVersion}, the manifest's reflow_pack_abi_version`, counterexample: { triple: t.triple, file: t.file, reported: null, manifest: manifest.abiVersion } };
  return {
    status: 'failed',
    runs: 1,
    message: `${call}\n    returned: ${got}\n    expected: ${manifest.abiVersion}, the manifest's reflow_pack_abi_version (every target of one bundle is built by one rustc, with the manifest's version)`,
    counterexample: { triple: t.triple, file: t.file, reported: got, manifest: manifest.abiVersion },
  };
}

function templatesMatch(t: BundleTarget, rep: PackReport, manifest: BundleManifest): Outcome {
  const registered = rep.pack.templates.map((x) => x.name);
  const listed = manifest.templates;
  const missing = [...new Set(listed.filter((n) => !registered.includes(n)))];
  const extra = [...new Set(registered.filter((n) => !listed.includes(n)))];
  if (!missing.length && !extra.length) return { status: 'passed', runs: 1 };
  return {
    status: 'failed',
    runs: 1,
    message: `the templates target ${t.triple} (${t.file}) registers are not the manifest's\n    registered: ${list(registered)}\n    manifest lists: ${list(listed)}\n    missing (listed, not registered): ${list(missing)}\n    extra (registered, not listed): ${list(extra)}`,
    counterexample: { triple: t.triple, file: t.file, missing, extra },
  };
}
