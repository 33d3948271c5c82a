// `packcheck`: argument parsing (node's util.parseArgs), then the check, the
// terminal report and the JSON file. Exit codes are REPORT.md's: 0 all
// passed or skipped, 1 something failed or errored, 2 could not start.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { abiVersionFromRustcVV } from './abi.ts';
import { LoadError, readPack } from './pack-file.ts';
import { DEFAULTS } from './replay.ts';
import { corpusReport, writeJson } from './report/json.ts';
import { TOOL, type PackReport } from './report/model.ts';
import { packHeader, resultLine, summaryLine } from './report/terminal.ts';
import { checkWasmPack, type RunnerOptions } from './runner.ts';
import { checkNativePack } from './native/runner.ts';
import { checkHost } from './host-kit/runner.ts';
import { loadAdapter } from './host-kit/adapter.ts';
import { ALL_IDS } from '../properties/catalog.ts';
import { largeRuns } from '../properties/wasm-run.ts';
import { MEASURED_CYCLES, WARMUP_CYCLES } from '../properties/measure.ts';

class UsageError extends Error {}

export const HELP = `packcheck ${TOOL.version}: conformance checks for Reflow actor packs (wasm and vtable ABIs)

Usage: packcheck [pack.wasm | pack.so] [options]
       packcheck host ADAPTER [options]
  The kind of pack is told by its magic bytes: \0asm (wasm ABI) or ELF (vtable ABI).
  \`host ADAPTER\` checks a JS wasm-pack host instead: ADAPTER is a module whose default
  export is an async factory of a HostUnderTest (see README); the host.* properties run
  against probe packs, the adapter off the main thread (a call that never settles is
  harness.timeout).
  With no pack, checks the bundled reference packs (the WAT pack always; the
  Rust pack where Debian's rustc with the wasm32 std is installed).

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
  --jobs N            wasm properties checked side by side in worker threads (default: cores, max 4)
  --entrypoint NAME   native packs: the register symbol (default reflow_pack_register)
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
  seedGiven: boolean;
  entrypoint?: string;
}

export function parseCli(argv: string[]): Parsed | 'help' | 'version' {
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
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see packcheck --help)`);
  }
  if (values.help) return 'help';
  if (values.version) return 'version';
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
    entrypoint: values.entrypoint,
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
      jobs: intArg('jobs', values.jobs, 1, 64) ?? Math.min(4, availableParallelism()),
    },
  };
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`), err: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<number> {
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
  const { opts } = parsed;
  if (parsed.paths[0] === 'host') return checkHostCli(parsed, out, err);
  if (parsed.paths.length > 1) {
    err('packcheck: one pack at a time in this version; run packcheck once per pack');
    return 2;
  }

  let targets: { path: string; expectAbi: number | null }[];
  if (parsed.paths.length === 1) targets = [{ path: parsed.paths[0]!, expectAbi: opts.expectAbi }];
  else {
    const { referencePacks } = await import('../packs-under-test/reference.ts');
    const set = await referencePacks();
    out(`packcheck: no pack given; checking the bundled reference packs: ${set.packs.map((p) => p.name).join(', ')}`);
    for (const m of set.missing) out(`packcheck: not checked: ${m}`);
    targets = set.packs.map((p) => ({ path: p.path, expectAbi: opts.expectAbi ?? p.expectAbi }));
  }
  const files = [];
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
  if (!parsed.seedGiven) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this run)`);
  const started = performance.now();
  const reports: PackReport[] = [];
  for (const { file, expectAbi } of files) {
    if (file.kind !== 'wasm' && file.kind !== 'elf') {
      err(`packcheck: ${file.path} is a ${file.kind} file; this version checks wasm packs and Linux (ELF) shared objects; bundles and other platforms' binaries are not supported yet`);
      return 2;
    }
    const runOpts: RunnerOptions = { ...opts, expectAbi };
    out('');
    const check = file.kind === 'wasm' ? checkWasmPack(file, runOpts) : checkNativePack(file, { ...runOpts, entrypoint: parsed.entrypoint });
    const rep = await check.catch((e: unknown) => {
      if (e instanceof LoadError) return e;
      throw e;
    });
    if (rep instanceof LoadError) {
      err(`packcheck: ${rep.message}`);
      return 2;
    }
    out(packHeader(rep));
    for (const r of rep.results) out(resultLine(r));
    out(summaryLine(rep));
    reports.push(rep);
  }
  if (parsed.json) {
    const json = reports.length === 1 ? reports[0] : corpusReport(reports, reports[0]!.options, Math.round(performance.now() - started));
    try {
      writeJson(parsed.json, json);
    } catch (e) {
      err(`packcheck: cannot write ${parsed.json}: ${(e as Error).message}`);
      return 2;
    }
  }
  return reports.some((r) => r.exitCode !== 0) ? 1 : 0;
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
  try {
    await loadAdapter(adapter);
  } catch (e) {
    err(`packcheck: ${(e as Error).message.split('\n')[0]}`);
    return 2;
  }
  const { opts } = parsed;
  if (!parsed.seedGiven) out(`packcheck: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this run)`);
  const rep = await checkHost(adapter, opts);
  out(`packcheck host ${adapter}`);
  out(`  seed ${opts.seed}, ${opts.runs} runs per property (a fifth for the lifecycle properties), timeout ${opts.timeoutMs} ms per adapter call`);
  for (const r of rep.results) out(resultLine(r));
  out(summaryLine(rep));
  if (parsed.json) {
    try {
      writeJson(parsed.json, rep);
    } catch (e) {
      err(`packcheck: cannot write ${parsed.json}: ${(e as Error).message}`);
      return 2;
    }
  }
  return rep.exitCode;
}
