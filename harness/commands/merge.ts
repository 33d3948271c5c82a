// `packcheck merge SHARD.json… --json FILE`: joins shard reports.
import { familyMatrix, mergeReports } from '../run/corpus.ts';
import { TOOL, type PackReport } from '../report/model.ts';
import type { Out, Parsed } from '../cli.ts';
import { writeOutputs } from './common.ts';

export async function mergeCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
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
