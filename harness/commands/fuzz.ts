// `packcheck fuzz PACK [options]`: a coverage-guided campaign on a wasm pack
// (harness/fuzz/campaign.ts), its packcheck/fuzz@1 report, a live status
// line and a final summary. Exit 1 on a finding not expected, 0 on none,
// 2 when the campaign cannot start (bad arguments, a native pack, a file
// that is not a pack). Loaded only by this subcommand: binaryen with it.
// `packcheck fuzz --merge OUT IN…` is harness/fuzz/merge.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { joinNegativeValues } from '../cli-args.ts';
import { LoadError, readWasmPack } from '../run/pack-file.ts';
import { writeJson } from '../report/json.ts';
import { Progress } from './common.ts';
import { DEFAULTS } from '../run/replay.ts';
import type { Out } from '../cli.ts';
import { fuzzReport, fuzzSummaryLines, progressLine } from '../report/fuzz-report.ts';
import { DEFAULT_ARTIFACTS } from '../fuzz/artifacts.ts';
import type { CampaignStats, Finding } from '../fuzz/campaign.ts';
import { lifeline } from '../kernel/lifeline.ts';
import { DictFileError, parseDictFile, type Dictionary } from '../fuzz/dictionary.ts';
import { ExpectationSet, ExpectError, matchFinding, readExpectations } from '../run/expect.ts';
import { fuzzHtml } from '../report/fuzz-html.ts';

const OPTIONS = {
  time: { type: 'string' },
  runs: { type: 'string' },
  'max-execs': { type: 'string' },
  dict: { type: 'string' },
  expect: { type: 'string', multiple: true },
  html: { type: 'string' },
  merge: { type: 'boolean' },
  'no-feedback': { type: 'boolean' },
  seed: { type: 'string' },
  jobs: { type: 'string' },
  corpus: { type: 'string' },
  artifacts: { type: 'string' },
  json: { type: 'string' },
  'no-dict': { type: 'boolean' },
  'no-cmplog': { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

class Usage extends Error {}

function whole(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new Usage(`--${name} takes a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new Usage(`--${name} must be between ${min} and ${max}, got ${v}`);
  return n;
}

/** An artifact's hash, as expect@1's `finding` names it: its file name without `.json` (the input's content hash). */
export const artifactHash = (artifact: string) => basename(artifact).replace(/\.json$/, '');

export async function fuzzCli(argv: string[], out: Out, err: Out): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({ args: joinNegativeValues(argv, OPTIONS), options: OPTIONS, allowPositionals: true, strict: true }));
    if (values.merge) {
      if (positionals.length < 3) throw new Usage('give the pack, the output directory and at least one corpus: packcheck fuzz PACK --merge OUT_DIR IN_DIR…');
    } else if (positionals.length !== 1) throw new Usage(positionals.length ? `give one pack, got ${positionals.length} paths` : 'give the .wasm pack to fuzz: packcheck fuzz PACK [--time S | --runs N]');
    if (values.runs !== undefined && values['max-execs'] !== undefined) throw new Usage('--runs and --max-execs are the same limit: give one');
  } catch (e) {
    err(`packcheck fuzz: ${(e as Error).message.split('\n')[0]} (see packcheck --help)`);
    return 2;
  }
  if (values.merge) return (await import('../fuzz/merge.ts')).mergeCli(positionals, values, out, err);
  let opts;
  try {
    const timeS = whole('time', values.time, 1, 7 * 24 * 3600);
    const maxExecs = whole(values.runs !== undefined ? 'runs' : 'max-execs', values.runs ?? values['max-execs'], 1, Number.MAX_SAFE_INTEGER);
    opts = {
      timeS: timeS ?? (maxExecs === undefined ? 60 : null),
      maxExecs: maxExecs ?? null,
      seed: whole('seed', values.seed, -(2 ** 31), 2 ** 31 - 1) ?? ((Math.random() * 2 ** 31) | 0),
      seedGiven: values.seed !== undefined,
      jobs: whole('jobs', values.jobs, 1, 64) ?? 1,
      timeoutMs: whole('timeout-ms', values['timeout-ms'], 1, 3_600_000) ?? DEFAULTS.timeoutMs,
    };
  } catch (e) {
    err(`packcheck fuzz: ${(e as Error).message}`);
    return 2;
  }
  let dict: Dictionary | null = null;
  let expectations: ExpectationSet | null = null;
  try {
    if (values.dict !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.dict, 'utf8');
      } catch {
        throw new DictFileError(`cannot read the dictionary ${values.dict}`);
      }
      dict = parseDictFile(text, values.dict);
    }
    if (values.expect?.length) {
      const files = values.expect;
      expectations = new ExpectationSet(
        files.flatMap((file) => readExpectations(file).map((entry, index) => ({ source: 'expect' as const, file, index, entry }))),
        files,
      );
    }
  } catch (e) {
    if (!(e instanceof DictFileError) && !(e instanceof ExpectError)) throw e;
    err(`packcheck fuzz: ${e.message}`);
    return 2;
  }
  let file;
  try {
    file = await readWasmPack(positionals[0]!, 'packcheck fuzz drives the wasm ABI\'s run entry point, which a native pack does not have');
  } catch (e) {
    if (e instanceof LoadError) return err(`packcheck fuzz: ${e.message}`), 2;
    throw e;
  }
  try {
    await WebAssembly.compile(file.bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    err(`packcheck fuzz: ${file.path} starts like WebAssembly but does not compile (${(e as Error).message}); rebuild the pack`);
    return 2;
  }
  const { runCampaign, CannotFuzz } = await import('../fuzz/campaign.ts');
  const quiet = values.quiet ?? false;
  const progress = new Progress(quiet);
  if (!opts.seedGiven && !quiet) out(`packcheck fuzz: seed ${opts.seed} (pass --seed ${opts.seed} to repeat this campaign)`);
  // Stopped from outside (Ctrl-C, a CI timeout): the report of what was found so far, exit 1.
  const found: Finding[] = [];
  let last: CampaignStats | null = null;
  const reportOptions = { seed: opts.seed, timeS: opts.timeS, maxExecs: opts.maxExecs, jobs: opts.jobs, corpus: values.corpus ?? null, dict: !values['no-dict'], dictFile: values.dict ?? null, cmplog: !values['no-cmplog'], feedback: !values['no-feedback'], timeoutMs: opts.timeoutMs };
  const disarm = lifeline((why) => {
    progress.clear();
    const s = last ?? { execs: 0, edges: 0, totalEdges: 0, corpus: 0, findings: 0, ms: 0 };
    const partial = { templates: [], stats: { execs: s.execs, execsPerSec: Math.round(s.execs / Math.max(s.ms / 1000, 1e-3)), edges: { covered: s.edges, total: s.totalEdges }, corpus: s.corpus, durationMs: Math.round(s.ms), unconfirmed: 0, dictionary: { strings: 0, ints: 0 } }, coverage: [], findings: found };
    if (values.json) writeJson(values.json, { ...fuzzReport({ path: file.path, sha256: file.sha256, templates: [] }, reportOptions, partial, 1), interrupted: why });
    err(`packcheck fuzz: stopped: ${why}; ${found.length} finding(s) so far${values.json ? `, in ${values.json}` : ''}`);
  });
  let result;
  try {
    result = await runCampaign({
      pack: { path: file.path, sha256: file.sha256, bytes: file.bytes },
      seed: opts.seed,
      timeS: opts.timeS,
      maxExecs: opts.maxExecs,
      jobs: opts.jobs,
      timeoutMs: opts.timeoutMs,
      profile: 'sdk',
      dict: !values['no-dict'],
      extraDict: dict,
      cmplog: !values['no-cmplog'],
      feedback: !values['no-feedback'],
      corpusDir: values.corpus ?? null,
      artifactsDir: values.artifacts ?? DEFAULT_ARTIFACTS,
      onProgress: (s) => {
        last = s;
        progress.show(progressLine(s));
      },
      onFinding: (f) => found.push(f),
    });
  } catch (e) {
    progress.clear();
    disarm();
    if (!(e instanceof CannotFuzz)) throw e;
    // A pack that cannot be surveyed (no instance, a hang in register) is the battery's to judge.
    err(`packcheck fuzz: cannot fuzz ${file.path}: ${(e as Error).message}; run \`packcheck ${file.path}\` to see why`);
    return 2;
  }
  disarm();
  progress.clear();
  // Known findings (by id and artifact hash) are marked expected and do not fail the run.
  const subject = { path: file.path, sha256: file.sha256 };
  const expectedBy = new Map<Finding, string>();
  for (const f of result.findings) {
    const entry = expectations ? matchFinding(expectations, subject, f.id, artifactHash(f.artifact)) : null;
    if (entry) expectedBy.set(f, entry.reason);
  }
  const counted = result.findings.filter((f) => !expectedBy.has(f));
  const report = fuzzReport({ path: file.path, sha256: file.sha256, templates: result.templates }, reportOptions, result, counted.length ? 1 : 0, expectedBy, expectations?.section(false));
  if (!quiet) for (const l of fuzzSummaryLines(report)) out(l);
  for (const [target, write] of [
    [values.json, () => writeJson(values.json!, report)],
    [values.html, () => writeFileSync(values.html!, fuzzHtml(report))],
  ] as const) {
    if (!target) continue;
    try {
      write();
    } catch (e) {
      err(`packcheck fuzz: cannot write ${target}: ${(e as Error).message}`);
      return 2;
    }
  }
  return report.exitCode;
}
