// `packcheck`: argument parsing (node's util.parseArgs), then the check, the
// terminal report and the JSON file. Exit codes are REPORT.md's: 0 all
// passed or skipped, 1 something failed or errored, 2 could not start.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { abiVersionFromRustcVV } from './abi.ts';
import { LoadError, readPack, type PackFile } from './pack-file.ts';
import { checkCorpus, expandPaths, familyMatrix, mergeReports, shardOf } from './corpus.ts';
import { toJUnit } from './report/junit.ts';
import { toHtml } from './report/html.ts';
import { catalogListing } from '../properties/statements.ts';
import { DEFAULTS } from './replay.ts';
import { corpusReport, writeJson } from './report/json.ts';
import { isFailing, packReport, TOOL, type PackReport, type PropertyResult } from './report/model.ts';
import { lifeline } from './lifeline.ts';
import { notAPackLine, packHeader, resultLine, resultLines, summaryLine } from './report/terminal.ts';
import { checkWasmPack, type RunnerOptions } from './runner.ts';
import { checkNativePack } from './native/runner.ts';
import { checkAdapterImport, checkHost, type HostReport } from './host-kit/runner.ts';
import { ALL_IDS } from '../properties/catalog.ts';
import { largeRuns } from '../properties/wasm-run.ts';
import { MEASURED_CYCLES, WARMUP_CYCLES } from '../properties/measure.ts';

class UsageError extends Error {}

export const HELP = `packcheck ${TOOL.version}: conformance checks for Reflow actor packs (wasm and vtable ABIs)

Usage: packcheck [PACK] [options]                 one pack: .wasm, .so or .rflpack
       packcheck PACK… | DIR… [options]         a corpus (corpus@1 report, pack × family matrix)
       packcheck host ADAPTER [options]         a JS wasm-pack host, through its adapter
       packcheck merge SHARD.json… --json FILE  join shard reports
  The kind of pack is told by its magic bytes: \\0asm (wasm ABI), ELF (vtable ABI) or a zip (.rflpack).
  \`host ADAPTER\` checks a JS wasm-pack host instead: ADAPTER is a module whose default
  export is an async factory of a HostUnderTest (see README); the host.* properties run
  against probe packs, the adapter off the main thread (a call that never settles is
  harness.timeout).
  With no pack, checks the bundled reference packs (the WAT pack always; the
  Rust wasm32 and native packs where Debian's rustc with the wasm32 std is installed).

Options:
  --runs N            fast-check runs per property (default ${DEFAULTS.runs}); the 1-16 MiB
                      property wasm.run.large-payload takes a twentieth of N (at least 2:
                      ${largeRuns(DEFAULTS.runs)} by default); wasm.alloc.no-leak and wasm.instance.no-leak
                      are one deterministic measurement each (${WARMUP_CYCLES} warm-up + ${MEASURED_CYCLES} cycles);
                      shape, registration and abi.version.expected checks are 1 run
  --seed S            seed (an integer; default: random, printed so a run can be repeated)
  --path P            fast-check replay path (from a failure's replay line)
  --only IDS          comma-separated property ids or prefixes (wasm.run, wasm.alloc.*)
  --skip IDS          the same, to leave out
  --json FILE         write the packcheck/report@1 JSON report (corpus@1 for several packs)
  --expect-abi N      the ABI version the pack must report (abi.version.expected)
  --rustc-vv FILE     or: the \`rustc -vV\` output of the host's rustc, hashed as in ABI.md
  --timeout-ms T      limit per pack call in ms (default ${DEFAULTS.timeoutMs}), plus 1 s per MiB of payload
  --profile P         sdk (default) or legacy (accepts bare-name registration metadata)
  --jobs N            corpus: packs checked side by side (default: cores); one pack: wasm
                      properties side by side in worker threads (at most 4)
  --entrypoint NAME   native packs: the register symbol (default reflow_pack_register)
  --target TRIPLE     bundles: check (and replay) only this target
  --junit FILE        write JUnit XML (one testsuite per pack and target)
  --html FILE         write a self-contained HTML report (verdicts, failures, memory timeline)
  --shard K/N         corpus: check only the K-th of N stable parts of the sorted paths
  -q, --quiet         no progress line and no terminal report (exit code and files only)
  --list              the property catalog (id, ABI, statement)
  -h, --help          this text
  --version           the version

Exit codes: 0 every result passed or was skipped; 1 something failed or errored
(including a pack that hung or crashed); 2 bad arguments, or the pack is missing
or not a pack. Property ids: ../shared/PROPERTIES.md (README lists them).`;

function intArg(name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} takes a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${v}`);
  return n;
}

function idList(name: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const ids = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    const known = ALL_IDS.some((k) => k === id || k.startsWith(id.endsWith('*') ? id.slice(0, -1) : `${id}.`));
    if (!known) throw new UsageError(`--${name}: unknown property id ${JSON.stringify(id)} (see packcheck --help and PROPERTIES.md)`);
  }
  return ids;
}

interface Parsed {
  paths: string[];
  opts: RunnerOptions;
  json?: string;
  junit?: string;
  html?: string;
  seedGiven: boolean;
  entrypoint?: string;
  target?: string;
  shard?: { index: number; count: number };
  quiet: boolean;
  jobs: number;
}

export function parseCli(argv: string[]): Parsed | 'help' | 'version' | 'list' {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        runs: { type: 'string' },
        seed: { type: 'string' },
        path: { type: 'string' },
        only: { type: 'string' },
        skip: { type: 'string' },
        json: { type: 'string' },
        'expect-abi': { type: 'string' },
        'rustc-vv': { type: 'string' },
        'timeout-ms': { type: 'string' },
        profile: { type: 'string' },
        jobs: { type: 'string' },
        entrypoint: { type: 'string' },
        junit: { type: 'string' },
        html: { type: 'string' },
        target: { type: 'string' },
        shard: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see packcheck --help)`);
  }
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (values.list) return 'list';
  let shard: Parsed['shard'];
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard takes K/N with 1 <= K <= N, such as 1/2; got ${JSON.stringify(values.shard)}`);
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  if (values['expect-abi'] !== undefined && values['rustc-vv'] !== undefined) throw new UsageError('give --expect-abi or --rustc-vv, not both');
  let expectAbi: number | null = intArg('expect-abi', values['expect-abi'], 0, 0xffffffff) ?? null;
  if (values['rustc-vv'] !== undefined) {
    let text: Uint8Array;
    try {
      text = readFileSync(values['rustc-vv']);
    } catch {
      throw new UsageError(`--rustc-vv: cannot read ${values['rustc-vv']}; save the output of \`rustc -vV\` to a file and pass its path`);
    }
    expectAbi = abiVersionFromRustcVV(text);
  }
  const profile = values.profile ?? DEFAULTS.profile;
  if (profile !== 'sdk' && profile !== 'legacy') throw new UsageError(`--profile must be sdk or legacy, got ${JSON.stringify(profile)}`);
  const seed = intArg('seed', values.seed, -(2 ** 31), 2 ** 31 - 1);
  if (values.path !== undefined && !/^\d+(:\d+)*(@[\w+/=:-]*)?$/.test(values.path)) throw new UsageError(`--path takes the path of a failure's replay line (such as 12:0:3), got ${JSON.stringify(values.path)}`);
  const only = idList('only', values.only);
  const skip = idList('skip', values.skip);
  if (values.path !== undefined && only?.length !== 1) throw new UsageError('--path replays one property: give it with --only ID');
  if (values.path !== undefined && seed === undefined) throw new UsageError('--path needs the --seed it was found with');
  return {
    paths: positionals,
    json: values.json,
    junit: values.junit,
    html: values.html,
    entrypoint: values.entrypoint,
    target: values.target,
    shard,
    quiet: values.quiet ?? false,
    jobs: intArg('jobs', values.jobs, 1, 64) ?? availableParallelism(),
    seedGiven: seed !== undefined,
    opts: {
      seed: seed ?? ((Math.random() * 2 ** 31) | 0),
      runs: intArg('runs', values.runs, 1, 1_000_000) ?? DEFAULTS.runs,
      path: values.path,
      timeoutMs: intArg('timeout-ms', values['timeout-ms'], 1, 3_600_000) ?? DEFAULTS.timeoutMs,
      profile,
      expectAbi,
      only,
      skip,
      jobs: Math.min(4, intArg('jobs', values.jobs, 1, 64) ?? availableParallelism()),
    },
  };
}

type Out = (s: string) => void;

/** The live progress line: on a TTY stderr only, and not with --quiet. */
class Progress {
  private readonly on: boolean;
  private readonly t0 = performance.now();
  constructor(quiet: boolean) {
    this.on = !quiet && Boolean(process.stderr.isTTY);
  }
  show(text: string): void {
    if (this.on) process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 100) - 12)} ${((performance.now() - this.t0) / 1000).toFixed(1)}s`);
  }
  clear(): void {
    if (this.on) process.stderr.write('\r\x1b[K');
  }
}

/** Writes --json/--junit/--html; false (after one line on stderr) when a file cannot be written. */
function writeOutputs(parsed: Parsed, json: unknown, reports: (PackReport | HostReport)[], err: Out): boolean {
  const outputs: [string | undefined, () => void][] = [
    [parsed.json, () => writeJson(parsed.json!, json)],
    [parsed.junit, () => writeFileSync(parsed.junit!, toJUnit(reports))],
    [parsed.html, () => writeFileSync(parsed.html!, toHtml(reports))],
  ];
  for (const [file, write] of outputs) {
    if (!file) continue;
    try {
      write();
    } catch (e) {
      err(`packcheck: cannot write ${file}: ${(e as Error).message}`);
      return false;
    }
  }
  return true;
}

/** Checks one file in this process, routed by its magic bytes. */
async function checkFile(file: PackFile, opts: RunnerOptions, parsed: Parsed): Promise<PackReport> {
  if (file.kind === 'wasm') return checkWasmPack(file, opts);
  if (file.kind === 'elf') return checkNativePack(file, { ...opts, entrypoint: parsed.entrypoint });
  if (file.kind === 'zip') return (await import('./bundle/check.ts')).checkBundle(file, { ...opts, target: parsed.target, entrypoint: parsed.entrypoint });
  throw new LoadError(`${file.path} is a ${file.kind} binary: packcheck loads wasm packs, Linux (ELF) shared objects and .rflpack bundles here`);
}

export async function main(argv: string[], out: Out = (s) => process.stdout.write(`${s}\n`), err: Out = (s) => process.stderr.write(`${s}\n`)): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`packcheck: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (parsed === 'help') return out(HELP), 0;
  if (parsed === 'version') return out(TOOL.version), 0;
  if (parsed === 'list') return out(catalogListing()), 0;
  if (parsed.paths[0] === 'host') return checkHostCli(parsed, out, err);
  if (parsed.paths[0] === 'merge') return mergeCli(parsed, out, err);
  if (parsed.paths.length > 1 || parsed.shard || (parsed.paths.length === 1 && isDirectory(parsed.paths[0]!))) return corpusCli(parsed, out, err);
  const { opts } = parsed;

  let targets: { path: string; expectAbi: number | null }[];
  if (parsed.paths.length === 1) targets = [{ path: parsed.paths[0]!, expectAbi: opts.expectAbi }];
  else {
    const { referencePacks } = await import('../packs-under-test/reference.ts');
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
    const rep = await checkFile(file, { ...opts, expectAbi, onResult, onProgress }, parsed).catch((e: unknown) => {
      if (e instanceof LoadError) return e;
      throw e;
    });
    progress.clear();
    if (rep instanceof LoadError) {
      err(`packcheck: ${rep.message}`);
      return 2;
    }
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
  const json = reports.length === 1 ? reports[0] : corpusReport(reports, reports[0]!.options, Math.round(performance.now() - started));
  if (!writeOutputs(parsed, json, reports, err)) return 2;
  return reports.some((r) => r.exitCode !== 0) ? 1 : 0;
}

/** The report@1 of a check stopped from outside: the results so far, exit code 1, and why it stopped. */
function interruptedReport(file: PackFile, results: PropertyResult[], opts: Parsed['opts'], why: string): PackReport {
  const abi = file.kind === 'wasm' ? 'wasm' : file.kind === 'elf' ? 'vtable' : file.kind === 'zip' ? 'bundle' : null;
  const rep = packReport({ path: file.path, sha256: file.sha256, abi, abiVersion: null, templates: [], imports: [] }, { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile }, results, performance.now());
  return { ...rep, exitCode: 1, interrupted: why };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The flags every corpus child gets: the same check, one pack each. */
function childArgs(parsed: Parsed): string[] {
  const o = parsed.opts;
  const a = ['--seed', String(o.seed), '--runs', String(o.runs), '--timeout-ms', String(o.timeoutMs), '--profile', o.profile];
  if (o.expectAbi !== null) a.push('--expect-abi', String(o.expectAbi));
  if (o.only?.length) a.push('--only', o.only.join(','));
  if (o.skip?.length) a.push('--skip', o.skip.join(','));
  if (parsed.entrypoint) a.push('--entrypoint', parsed.entrypoint);
  if (parsed.target) a.push('--target', parsed.target);
  return a;
}

async function corpusCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  const all = await expandPaths(parsed.paths.length ? parsed.paths : ['.']);
  if (all.length === 0) {
    err(`packcheck: ${parsed.paths.join(', ') || '.'}: no file found; give pack files or directories that hold packs`);
    return 2;
  }
  const files = parsed.shard ? shardOf(all, parsed.shard.index, parsed.shard.count) : [...all].sort();
  const { opts } = parsed;
  const options = { seed: opts.seed, runs: opts.runs, timeoutMs: opts.timeoutMs, profile: opts.profile };
  if (!parsed.quiet) out(`packcheck: ${files.length} pack(s)${parsed.shard ? ` in shard ${parsed.shard.index}/${parsed.shard.count} of ${all.length}` : ''}, seed ${opts.seed}, ${parsed.jobs} at a time`);
  const started = performance.now();
  const progress = new Progress(parsed.quiet);
  const finished: PackReport[] = [];
  // Stopped from outside: the children end with us, and the corpus report holds the packs checked so far.
  const disarm = lifeline((why) => {
    progress.clear();
    if (finished.length) writeOutputs(parsed, { ...corpusReport(finished, options, Math.round(performance.now() - started)), shard: parsed.shard ?? null, exitCode: 1, interrupted: why }, finished, err);
    err(`packcheck: stopped: ${why}; ${finished.length} of ${files.length} pack(s) had been checked`);
  });
  const reports = await checkCorpus(files, {
    childArgs: childArgs(parsed),
    options,
    jobs: parsed.jobs,
    onPack: (r, done, total) => {
      finished.push(r);
      progress.show(`packcheck: ${done}/${total} packs (${basename(r.pack.path)} ${r.exitCode ? 'failed' : 'conforms'})`);
    },
  });
  disarm();
  progress.clear();
  if (!parsed.quiet) {
    for (const r of reports) {
      const bad = r.results.filter(isFailing);
      out(`${r.exitCode ? 'FAIL' : 'pass'}  ${r.pack.path}: ${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.errored} errored, ${r.summary.skipped} skipped`);
      for (const x of bad) out(resultLine(x));
    }
    if (reports.length) out(`\n${familyMatrix(reports)}`);
  }
  const corpus = { ...corpusReport(reports, options, Math.round(performance.now() - started)), shard: parsed.shard ?? null };
  if (!writeOutputs(parsed, corpus, reports, err)) return 2;
  if (!parsed.quiet) out(`packcheck: ${reports.length} pack(s), ${reports.filter((r) => r.exitCode).length} failing`);
  return corpus.exitCode;
}

async function mergeCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  const files = parsed.paths.slice(1);
  if (!files.length) {
    err('packcheck: usage: packcheck merge SHARD.json… --json ALL.json [--junit FILE] [--html FILE]');
    return 2;
  }
  let merged;
  try {
    merged = mergeReports(files);
  } catch (e) {
    err(`packcheck: ${(e as Error).message.split('\n')[0]}`);
    return 2;
  }
  const reports = merged.reports.map((r) => ({ ...r, tool: TOOL, options: merged.options }) as PackReport);
  if (!writeOutputs(parsed, merged, reports, err)) return 2;
  if (!parsed.quiet) {
    out(`packcheck merge: ${files.length} report(s), ${merged.reports.length} pack(s), ${merged.summary.failed} failed, ${merged.summary.errored} errored`);
    if (reports.length) out(familyMatrix(reports));
  }
  return merged.exitCode;
}

async function checkHostCli(parsed: Parsed, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const adapter = parsed.paths[1];
  if (!adapter || parsed.paths.length > 2) {
    err('packcheck: usage: packcheck host ADAPTER [options] (one adapter module)');
    return 2;
  }
  if (!existsSync(adapter)) {
    err(`packcheck: ${adapter}: no such adapter module; give the path of a module whose default export is an async factory of a HostUnderTest`);
    return 2;
  }
  // Imported in a worker as the check will import it: Node's own loader for
  // JavaScript (this process runs under tsx), tsx for TypeScript.
  const importError = await checkAdapterImport(adapter);
  if (importError) {
    err(`packcheck: ${importError}`);
    return 2;
  }
  const { opts } = parsed;
  if (!parsed.seedGiven) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this run)`);
  const disarm = lifeline((why) => err(`packcheck: stopped: ${why}; the host check did not finish and no report was written`));
  const rep = await checkHost(adapter, opts);
  disarm();
  out(`packcheck host ${adapter}`);
  out(`  seed ${opts.seed}, ${opts.runs} runs per property (a fifth for the lifecycle properties), timeout ${opts.timeoutMs} ms per adapter call`);
  for (const l of resultLines(rep.results)) out(l);
  out(summaryLine(rep));
  if (!writeOutputs(parsed, rep, [rep], err)) return 2;
  return rep.exitCode;
}
