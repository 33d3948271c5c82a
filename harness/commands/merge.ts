// `packcheck merge SHARD.json… --json FILE`: joins shard reports.
import { familyMatrix, mergeReports } from '../run/corpus.ts';
import { TOOL, type PackReport } from '../report/model.ts';
import type { Out, Parsed } from '../cli.ts';
import { expectationLines, writeOutputs } from './common.ts';
import { readFileSync } from 'node:fs';
import { mergeSections, withExpectations, type ExpectationsSection } from '../run/expect.ts';

/** The shards' expectations sections, joined and decided; null when no shard had any; throws when only some had. */
function mergedExpectations(files: string[]): ExpectationsSection | null {
  const sections = files.map((f) => (JSON.parse(readFileSync(f, 'utf8')) as { expectations?: ExpectationsSection }).expectations);
  if (sections.every((x) => x === undefined)) return null;
  const missing = files.filter((_, i) => sections[i] === undefined);
  if (missing.length) throw new Error(`${missing.join(', ')} ${missing.length === 1 ? 'was' : 'were'} run without the --expect/--baseline the other shards had; run every shard with the same files`);
  return mergeSections(sections as ExpectationsSection[]);
}

export async function mergeCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  const files = parsed.paths.slice(1);
  if (!files.length) {
    err('packcheck: usage: packcheck merge SHARD.json… --json ALL.json [--junit FILE] [--html FILE]');
    return 2;
  }
  let merged;
  let section: ExpectationsSection | null;
  try {
    merged = mergeReports(files);
    // Staleness is decided here, over every shard's use of each entry.
    section = mergedExpectations(files);
  } catch (e) {
    err(`packcheck: ${(e as Error).message.split('\n')[0]}`);
    return 2;
  }
  const json = section ? withExpectations(merged, section) : merged;
  const reports = merged.reports.map((r) => ({ ...r, tool: TOOL, options: merged.options }) as PackReport);
  if (!writeOutputs(parsed, json, reports, err)) return 2;
  if (!parsed.quiet) {
    out(`packcheck merge: ${files.length} report(s), ${merged.reports.length} pack(s), ${merged.summary.failed} failed, ${merged.summary.errored} errored`);
    if (reports.length) out(familyMatrix(reports));
    for (const l of expectationLines(section ?? undefined)) out(l);
  }
  return json.exitCode ? 1 : 0;
}
