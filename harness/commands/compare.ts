// `packcheck compare BASE.json NEW.json`: what changed between two reports
// (report@1 or corpus@1 on either side). Exit 1 when something newly fails;
// 2, with one line, when a report cannot be read.
import { writeFileSync } from 'node:fs';
import { compareReports } from '../report/compare-model.ts';
import { compareJUnit, compareLines, compareSection } from '../report/compare-render.ts';
import { toHtml } from '../report/html.ts';
import { writeJson } from '../report/json.ts';
import { readReportFile, ReportFileError, type ReportFile } from '../run/report-file.ts';
import type { Out, Parsed } from '../cli.ts';
import { writeFiles } from './common.ts';

export async function compareCli(parsed: Parsed, out: Out, err: Out): Promise<number> {
  const files = parsed.paths.slice(1);
  if (files.length !== 2) {
    err('packcheck: usage: packcheck compare BASE.json NEW.json [--json FILE] [--junit FILE] [--html FILE] (two --json reports)');
    return 2;
  }
  let base: ReportFile;
  let next: ReportFile;
  try {
    base = readReportFile(files[0]!, 'compare BASE');
    next = readReportFile(files[1]!, 'compare NEW');
  } catch (e) {
    if (!(e instanceof ReportFileError)) throw e;
    err(`packcheck: ${e.message}`);
    return 2;
  }
  const cmp = compareReports(base, next);
  if (!parsed.quiet) for (const l of compareLines(cmp)) out(l);
  const outputs: [string | undefined, () => void][] = [
    [parsed.json, () => writeJson(parsed.json!, cmp)],
    [parsed.junit, () => writeFileSync(parsed.junit!, compareJUnit(cmp))],
    // The comparison first, then the new report's packs in full.
    [parsed.html, () => writeFileSync(parsed.html!, toHtml(next.reports, { title: 'packcheck compare', before: [compareSection(cmp)] }))],
  ];
  if (!writeFiles(outputs, err)) return 2;
  return cmp.exitCode;
}
