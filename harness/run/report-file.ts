// Reading an earlier packcheck JSON report from disk (a --baseline, either
// side of `packcheck compare`): report@1 of a pack, a bundle or a host, or
// corpus@1, seen the same way: the packs it holds, each with its results.
import { readFileSync } from 'node:fs';
import { TOOL, type PackReport, type PropertyResult, type RunOptions } from '../report/model.ts';
import type { HostReport } from './host-runner.ts';

/** One pack (or host adapter) of a report, as a comparison or a baseline needs it. */
export interface ReportedPack {
  path: string;
  sha256: string;
  results: PropertyResult[];
}

export interface ReportFile {
  file: string;
  schema: 'packcheck/report@1' | 'packcheck/corpus@1';
  options: RunOptions;
  packs: ReportedPack[];
  /** The same packs as whole report@1 objects (corpus members given back their tool and options), for the renderers. */
  reports: (PackReport | HostReport)[];
}

/** An unreadable or wrong-schema report: exit 2, with this one line. */
export class ReportFileError extends Error {}

interface RawPack {
  pack?: { path?: unknown; sha256?: unknown };
  host?: { path?: unknown; sha256?: unknown };
  results?: unknown;
}

function packOf(raw: RawPack, file: string, where: string): ReportedPack {
  const subject = raw.pack ?? raw.host;
  if (typeof subject?.path !== 'string' || !Array.isArray(raw.results)) throw new ReportFileError(`${file}: ${where} has no pack (or host) path or no results; is it a packcheck report?`);
  for (const r of raw.results as unknown[]) {
    const x = r as Partial<PropertyResult> | null;
    if (typeof x?.id !== 'string' || typeof x.status !== 'string') throw new ReportFileError(`${file}: ${where} holds a result without id or status`);
  }
  return { path: subject.path, sha256: typeof subject.sha256 === 'string' ? subject.sha256 : '', results: raw.results as PropertyResult[] };
}

/** Reads report@1 or corpus@1; `what` names the flag or argument in the one-line error. */
export function readReportFile(file: string, what: string): ReportFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ReportFileError(`${what}: cannot read ${file}; give a packcheck --json report (report@1 or corpus@1)`);
  }
  let doc: { schema?: unknown; options?: RunOptions; reports?: unknown } & RawPack;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ReportFileError(`${what}: ${file} is not JSON (${(e as Error).message}); give a packcheck --json report`);
  }
  const schema = doc?.schema;
  if (schema === 'packcheck/report@1') return { file, schema, options: doc.options!, packs: [packOf(doc, file, 'the report')], reports: [doc as unknown as PackReport] };
  if (schema === 'packcheck/corpus@1') {
    if (!Array.isArray(doc.reports)) throw new ReportFileError(`${what}: ${file} is a corpus@1 report without "reports"`);
    const members = doc.reports as RawPack[];
    return { file, schema, options: doc.options!, packs: members.map((r, i) => packOf(r, file, `report ${i}`)), reports: members.map((r) => ({ ...r, tool: TOOL, options: doc.options }) as unknown as PackReport) };
  }
  throw new ReportFileError(`${what}: ${file} has schema ${JSON.stringify(schema ?? null)}, not packcheck/report@1 or packcheck/corpus@1`);
}
