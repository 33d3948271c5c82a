// `packcheck [PACK]`: one pack (or, with none, the bundled reference packs)
// checked in this process, routed by its magic bytes.
import { basename } from 'node:path';
import { LoadError, readPack, type PackFile } from '../run/pack-file.ts';
import { corpusReport } from '../report/json.ts';
import { packReport, type PackReport, type PropertyResult } from '../report/model.ts';
import { lifeline } from '../kernel/lifeline.ts';
import { notAPackLine, packHeader, resultLines, summaryLine } from '../report/terminal.ts';
import { checkWasmPack, type RunnerOptions } from '../run/wasm-runner.ts';
import { checkNativePack } from '../run/native-runner.ts';
import type { Out, Parsed } from '../cli.ts';
import { expectationLines, loadExpectations, Progress, writeExpectFile, writeOutputs } from './common.ts';
import { coverReport, withExpectations } from '../run/expect.ts';
import { exitCodeOf, summarize } from '../report/model.ts';

/** Checks one file in this process, routed by its magic bytes. */
async function checkFile(file: PackFile, opts: RunnerOptions, parsed: Parsed): Promise<PackReport> {
  if (file.kind === 'wasm') return checkWasmPack(file, opts);
  if (file.kind === 'elf') return checkNativePack(file, { ...opts, entrypoint: parsed.entrypoint });
  if (file.kind === 'zip') return (await import('../run/bundle/check.ts')).checkBundle(file, { ...opts, target: parsed.target, entrypoint: parsed.entrypoint });
  throw new LoadError(`${file.path} is a ${file.kind} binary: packcheck loads wasm packs, Linux (ELF) shared objects and .rflpack bundles here`);
}

export async function checkCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  const { opts } = parsed;
  const expectations = loadExpectations(parsed, err);
  if (expectations === 'refused') return 2;

  let targets: { path: string; expectAbi: number | null }[];
  if (parsed.paths.length === 1) targets = [{ path: parsed.paths[0]!, expectAbi: opts.expectAbi }];
  else {
    const { referencePacks } = await import('../run/reference-packs.ts');
    const set = await referencePacks();
    out(`packcheck: no pack given; checking the bundled reference packs: ${set.packs.map((p) => p.name).join(', ')}`);
    for (const m of set.missing) out(`packcheck: not checked: ${m}`);
    targets = set.packs.map((p) => ({ path: p.path, expectAbi: opts.expectAbi ?? p.expectAbi }));
  }
  const files: { file: PackFile; expectAbi: number | null }[] = [];
  for (const t of targets) {
    try {
      files.push({ file: await readPack(t.path), expectAbi: t.expectAbi });
    } catch (e) {
      if (e instanceof LoadError) {
        err(`packcheck: ${e.message}`);
        return 2;
      }
      throw e;
    }
  }
  // --inputs DIR (regression mode): saved fuzz inputs replayed on wasm packs only.
  if (parsed.inputs !== undefined) {
    const native = files.find((f) => f.file.kind !== 'wasm');
    if (native) return err(`packcheck: --inputs replays fuzz inputs through the wasm run entry point; ${native.file.path} is not a .wasm pack`), 2;
    const { readCorpusFiles } = await import('../fuzz/merge.ts');
    const saved = readCorpusFiles(parsed.inputs);
    if (typeof saved === 'string') return err(`packcheck: --inputs: ${saved}; give a corpus or artifacts directory written by packcheck fuzz`), 2;
  }
  const started = performance.now();
  const reports: PackReport[] = [];
  const progress = new Progress(parsed.quiet);
  let current: { file: PackFile; results: PropertyResult[] } | null = null;
  // Stopped from outside: the report of what was checked so far, marked as interrupted.
  const disarm = lifeline((why) => {
    progress.clear();
    const partial = current ? [...reports, interruptedReport(current.file, current.results, opts, why)] : reports;
    if (partial.length) writeOutputs(parsed, partial.length === 1 ? partial[0] : corpusReport(partial, partial[0]!.options, Math.round(performance.now() - started)), partial, err);
    err(`packcheck: stopped: ${why}; ${parsed.json || parsed.junit || parsed.html ? 'the reports hold what was checked so far' : 'nothing more was checked'}`);
  });
  if (!parsed.seedGiven && !parsed.quiet) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this run)`);
  for (const { file, expectAbi } of files) {
    let done = 0;
    const name = basename(file.path).slice(0, 24);
    current = { file, results: [] };
    const seen = current.results;
    // Most useful first: the line is cut to the terminal's width.
    const onResult = (r: PropertyResult) => {
      seen.push(r);
      progress.show(`${name}: ${++done} done, last ${r.id} ${r.status}`);
    };
    const onProgress = (running: string[], runs: number) => progress.show(`${name}: ${done} done, ${runs} runs, running ${running.join(', ') || '…'}`);
    let checked = await checkFile(file, { ...opts, expectAbi, onResult, onProgress }, parsed).catch((e: unknown) => {
      if (e instanceof LoadError) return e;
      throw e;
    });
    if (parsed.inputs !== undefined && !(checked instanceof LoadError)) {
      progress.show(`${name}: replaying the inputs in ${parsed.inputs}`);
      const { applySaved, replaySaved } = await import('../fuzz/regression.ts');
      const results = applySaved(checked.results, await replaySaved(file.bytes, parsed.inputs, opts.timeoutMs), file.path, parsed.inputs);
      checked = { ...checked, results, summary: summarize(results, checked.summary.durationMs), exitCode: exitCodeOf(results) };
    }
    progress.clear();
    if (checked instanceof LoadError) {
      err(`packcheck: ${checked.message}`);
      return 2;
    }
    const rep = expectations ? coverReport(expectations, checked.pack, checked) : checked;
    if (!parsed.quiet) {
      out('');
      out(packHeader(rep));
      for (const l of resultLines(rep.results)) out(l);
      const notAPack = notAPackLine(rep);
      if (notAPack) out(notAPack);
      out(summaryLine(rep));
    }
    reports.push(rep);
    current = null;
  }
  disarm();
  const plain = reports.length === 1 ? reports[0]! : corpusReport(reports, reports[0]!.options, Math.round(performance.now() - started));
  const section = expectations?.section(false);
  const json = section ? withExpectations(plain, section) : plain;
  if (!parsed.quiet) for (const l of expectationLines(section)) out(l);
  if (!writeOutputs(parsed, json, reports, err)) return 2;
  if (!writeExpectFile(parsed, expectations, reports.map((r) => ({ subject: r.pack, results: r.results })), out, err)) return 2;
  return json.exitCode ? 1 : 0;
}

/** The report@1 of a check stopped from outside: the results so far, exit code 1, and why it stopped. */
function interruptedReport(file: PackFile, results: PropertyResult[], opts: Parsed['opts'], why: string): PackReport {
  const abi = file.kind === 'wasm' ? 'wasm' : file.kind === 'elf' ? 'vtable' : file.kind === 'zip' ? 'bundle' : null;
  const rep = packReport({ path: file.path, sha256: file.sha256, abi, abiVersion: null, templates: [], imports: [] }, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results, performance.now());
  return { ...rep, exitCode: 1, interrupted: why };
}
