// `packcheck`: argument parsing (node's util.parseArgs), then the check, the
// terminal report and the JSON file. Exit codes are REPORT.md's: 0 all
// passed or skipped, 1 something failed or errored, 2 could not start.
//
// This module is what every run loads: parsing, --help, --version and --list
// need nothing else (the catalog and statements are plain data). Each
// subcommand is a module of its own under commands/, imported when it runs,
// so that only a check loads fast-check, the FFI addon (koffi) or the property modules.
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { joinNegativeValues } from './cli-args.ts';
import { abiVersionFromRustcVV } from './abi/abi.ts';
import { catalogListing } from '../properties/statements.ts';
import { DEFAULTS } from './run/replay.ts';
import { TOOL } from './report/model.ts';
import type { RunnerOptions } from './run/wasm-runner.ts';
import { ALL_IDS } from '../properties/catalog.ts';
import { largeRuns, MEASURED_CYCLES, WARMUP_CYCLES } from '../properties/budgets.ts';

class UsageError extends Error {}

export const HELP = `packcheck ${TOOL.version}: conformance checks for Reflow actor packs (wasm and vtable ABIs)

Usage: packcheck [PACK] [options]                 one pack: .wasm, .so or .rflpack
       packcheck PACK… | DIR… [options]         a corpus (corpus@1 report, pack × family matrix)
       packcheck host ADAPTER [options]         a JS wasm-pack host, through its adapter
       packcheck host --native ADAPTER --expect-abi N   a native (vtable ABI) loader, through its adapter executable
       packcheck merge SHARD.json… --json FILE  join shard reports
       packcheck compare BASE.json NEW.json     what changed between two reports
       packcheck diff OLD NEW [options]         two builds of one pack, on the same inputs
       packcheck fuzz PACK [fuzz options]       coverage-guided fuzz campaign on a .wasm pack (fuzz@1)
       packcheck fuzz PACK --merge OUT IN…      merge fuzz corpora (libFuzzer -merge=1)
       packcheck replay PACK ARTIFACT           re-run a fuzz artifact (exit 1: still fails, 0: fixed)
  The kind of pack is told by its magic bytes: \\0asm (wasm ABI), ELF (vtable ABI) or a zip (.rflpack).
  \`host ADAPTER\` checks a JS wasm-pack host instead: ADAPTER is a module whose default
  export is an async factory of a HostUnderTest (see README); the host.* properties run
  against probe packs, the adapter off the main thread (a call that never settles is
  harness.timeout).
  \`host --native ADAPTER\` checks a native loader: ADAPTER is an executable run as
  ADAPTER PACK… once per scenario, reporting JSON lines to $PACKCHECK_EVENTS (see README,
  "Checking a native host"); the nhost.* properties run against probe .so packs built
  with cc; --expect-abi or --rustc-vv (the host's ABI version) is required.
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
  --native            host: the adapter is a native host's executable (nhost.* properties)
  -q, --quiet         no progress line and no terminal report (exit code and files only)
  --expect FILE       expected failures (packcheck/expect@1; repeatable): a failure an entry
                      covers is xfail and does not fail the run; an entry that matched results
                      but none with its status is an unexpected pass and fails it
  --baseline REPORT   an earlier --json report: what failed there is expected; its seed is
                      used unless --seed is given
  --write-expect FILE write an expect@1 file of this run's failures (new ones with a placeholder
                      reason that --expect refuses until a person replaces it)
  --inputs DIR        (wasm packs) also replay every saved fuzz corpus input and artifact
                      in DIR through the oracles; one that fails an id fails that id's result
  --list              the property catalog (id, ABI, statement)
  -h, --help          this text
  --version           the version

compare BASE NEW (report@1 or corpus@1 each) takes --json FILE (packcheck/compare@1),
--junit FILE and --html FILE; it exits 1 when something newly fails, 2 when a report
cannot be read.

diff OLD NEW (both .wasm or both native .so; else exit 2): exports, imports, symbols, ABI
version, templates and ports, then the same generated inputs through both builds
(wasm: status, output JSON, traps; native: registrations and user_data ownership
under mock-host schedules); each difference shrunk, with a replay line.
  --seed S, --runs N, --path P, --timeout-ms T, --entrypoint NAME, -q   as above
  --json FILE         write the packcheck/diff@1 JSON report
  --ignore-error-text compare error results by status only
  --allow KIND[,KIND] differences that are intended (abi-version, exports, imports,
                      templates, ports, status, output, error-vs-success, trap, symbols,
                      registration, ownership): reported, exit 0
  Exit 1 when a difference is not allowed.

Fuzz options (packcheck fuzz PACK):
  --time S            campaign length in seconds (default 60; with --runs alone, none)
  --runs N            stop after N executions (deterministic with --jobs 1 and --seed);
                      --max-execs N is the same limit
  --seed S            seed of the mutator (default: random, printed)
  --jobs N            worker lanes sharing one corpus (default 1)
  --corpus DIR        start from the inputs in DIR and save the corpus there
  --artifacts DIR     where findings are written (default ./packcheck-artifacts)
  --json FILE         write the packcheck/fuzz@1 report
  --html FILE         write a self-contained HTML page: coverage over time, findings, replay lines
  --dict FILE         an AFL/libFuzzer dictionary (name="value" or "value" lines, \\xNN escapes),
                      merged with the one harvested from the module
  --expect FILE       known findings (packcheck/expect@1 entries with "finding": the artifact
                      hash; repeatable): marked expected, they do not fail the run
  --no-dict           no dictionary from the module (strings, compared constants)
  --no-cmplog         no comparison logging (operands, memcmp-like calls, input-to-state)
  --no-feedback       no coverage feedback: inputs generated afresh by the Message
                      arbitraries (the baseline the feedback is measured against)
  --timeout-ms T      limit per pack call (default ${DEFAULTS.timeoutMs}); a hang is a harness.timeout finding
  Exit 1 when there is a finding not expected, 0 when none, 2 when the campaign cannot start (a native pack).
packcheck fuzz PACK --merge OUT_DIR IN_DIR…   libFuzzer's -merge=1: the inputs of the IN_DIRs,
                      smallest first, kept in OUT_DIR only where they add coverage

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

export interface Parsed {
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
  /** --expect files (packcheck/expect@1). */
  expect: string[];
  baseline?: string;
  writeExpect?: string;
  /** --inputs DIR: saved fuzz inputs replayed through the oracles (wasm packs). */
  inputs?: string;
  /** `host --native`: the adapter is an executable around a native loader. */
  native?: boolean;
}

const OPTIONS = {
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
  expect: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'write-expect': { type: 'string' },
  inputs: { type: 'string' },
  native: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;


export function parseCli(argv: string[]): Parsed | 'help' | 'version' | 'list' {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: joinNegativeValues(argv, OPTIONS),
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
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
  if (values.inputs !== undefined && (positionals.length !== 1 || ['host', 'compare', 'merge'].includes(positionals[0]!) || shard || isDirectory(positionals[0]!))) throw new UsageError('--inputs DIR goes with one .wasm pack: packcheck PACK --inputs DIR');
  if (values.native && positionals[0] !== 'host') throw new UsageError('--native goes with host: packcheck host --native ADAPTER --expect-abi N');
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
    expect: values.expect ?? [],
    baseline: values.baseline,
    writeExpect: values['write-expect'],
    inputs: values.inputs,
    jobs: intArg('jobs', values.jobs, 1, 64) ?? availableParallelism(),
    seedGiven: seed !== undefined,
    native: values.native ?? false,
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

export type Out = (s: string) => void;

export async function main(argv: string[], out: Out = (s) => process.stdout.write(`${s}\n`), err: Out = (s) => process.stderr.write(`${s}\n`)): Promise<number> {
  // diff has options of its own (commands/diff.ts parses them).
  if (argv[0] === 'diff' && !argv.includes('--help') && !argv.includes('-h')) return (await import('./commands/diff.ts')).diffCli(argv.slice(1), out, err);
  // fuzz and replay have options of their own: parsed by their modules.
  if (argv[0] === 'fuzz') return (await import('./commands/fuzz.ts')).fuzzCli(argv.slice(1), out, err);
  if (argv[0] === 'replay') return (await import('./commands/replay.ts')).replayCli(argv.slice(1), out, err);
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
  // Each subcommand loads what it uses, and only when it runs.
  if (parsed.paths[0] === 'host') return (await import('./commands/host.ts')).checkHostCli(parsed, out, err);
  if (parsed.paths[0] === 'compare') return (await import('./commands/compare.ts')).compareCli(parsed, out, err);
  if (parsed.paths[0] === 'merge') return (await import('./commands/merge.ts')).mergeCli(parsed, out, err);
  if (parsed.paths.length > 1 || parsed.shard || (parsed.paths.length === 1 && isDirectory(parsed.paths[0]!))) return (await import('./commands/corpus.ts')).corpusCli(parsed, out, err);
  return (await import('./commands/check.ts')).checkCli(parsed, out, err);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
