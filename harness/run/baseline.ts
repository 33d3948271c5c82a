// --baseline REPORT.json: an earlier report@1 or corpus@1 as the run's
// expectations. Each result failing (or errored) there becomes an entry, so
// only what was not failing in the baseline can fail the run; and the run
// takes the baseline's seed unless --seed is given, so that the same inputs
// are generated. A baseline failure that passes now is "fixed", never stale.
import { ExpectError, runPath, type Expectation } from './expect.ts';
import { readReportFile, ReportFileError } from './report-file.ts';

export interface Baseline {
  file: string;
  seed: number;
  entries: Expectation[];
  /** The baseline's pack paths, as entries name them: a pack the baseline has by path is never matched by sha256. */
  paths: Set<string>;
}

export function readBaseline(file: string, cwd = process.cwd()): Baseline {
  let rep;
  try {
    rep = readReportFile(file, '--baseline');
  } catch (e) {
    if (e instanceof ReportFileError) throw new ExpectError(e.message);
    throw e;
  }
  const seed = rep.options?.seed;
  if (!Number.isInteger(seed)) throw new ExpectError(`--baseline: ${file} has no options.seed; give a report packcheck wrote with --json`);
  const entries: Expectation[] = [];
  const paths = new Set<string>();
  for (const p of rep.packs) {
    const pack = runPath(p.path, cwd);
    paths.add(pack);
    for (const r of p.results) {
      if (r.status !== 'failed' && r.status !== 'errored') continue;
      entries.push({
        source: 'baseline',
        file,
        index: entries.length,
        entry: { pack, ...(typeof r.target === 'string' ? { target: r.target } : {}), id: r.id, status: 'failed', reason: `failing in the baseline ${file}` },
        sha256: p.sha256 || undefined,
      });
    }
  }
  return { file, seed: seed!, entries, paths };
}
