// `packcheck PACK… | DIR…`: a corpus, one child process per pack.
import { basename } from 'node:path';
import { checkCorpus, expandPaths, familyMatrix, shardOf } from '../run/corpus.ts';
import { corpusReport } from '../report/json.ts';
import { isFailing, type PackReport } from '../report/model.ts';
import { lifeline } from '../kernel/lifeline.ts';
import { resultLine } from '../report/terminal.ts';
import type { Out, Parsed } from '../cli.ts';
import { expectationLines, loadExpectations, Progress, writeExpectFile, writeOutputs } from './common.ts';
import { coverReport, withExpectations } from '../run/expect.ts';

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

export async function corpusCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  const all = await expandPaths(parsed.paths.length ? parsed.paths : ['.']);
  if (all.length === 0) {
    err(`packcheck: ${parsed.paths.join(', ') || '.'}: no file found; give pack files or directories that hold packs`);
    return 2;
  }
    // Before the children's flags are made: a baseline gives the seed.
  const expectations = loadExpectations(parsed, err);
  if (expectations === 'refused') return 2;
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
  const checked = await checkCorpus(files, {
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
  // Expectations are applied here, not in the children: an entry may match several packs.
  const reports = expectations ? checked.map((r) => coverReport(expectations, r.pack, r)) : checked;
  if (!parsed.quiet) {
    for (const r of reports) {
      const bad = r.results.filter(isFailing);
      out(`${r.exitCode ? 'FAIL' : 'pass'}  ${r.pack.path}: ${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.errored} errored, ${r.summary.skipped} skipped${r.summary.xfail ? `, ${r.summary.xfail} xfail` : ''}`);
      for (const x of bad) out(resultLine(x));
    }
    if (reports.length) out(`\n${familyMatrix(reports)}`);
  }
  const plain = { ...corpusReport(reports, options, Math.round(performance.now() - started)), shard: parsed.shard ?? null };
  // A shard cannot tell a stale entry: its packs may be in another shard. merge decides.
  const section = expectations?.section(!!parsed.shard);
  const corpus = section ? withExpectations(plain, section) : plain;
  if (!parsed.quiet) for (const l of expectationLines(section)) out(l);
  if (!writeOutputs(parsed, corpus, reports, err)) return 2;
  if (!writeExpectFile(parsed, expectations, reports.map((r) => ({ subject: r.pack, results: r.results })), out, err)) return 2;
  if (!parsed.quiet) out(`packcheck: ${reports.length} pack(s), ${reports.filter((r) => r.exitCode).length} failing`);
  return corpus.exitCode;
}
