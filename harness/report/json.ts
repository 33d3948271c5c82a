// The JSON renderers: `packcheck/report@1` for one pack, `packcheck/corpus@1`
// for several (../shared/REPORT.md).
import { writeFileSync } from 'node:fs';
import { sumSummaries, TOOL, type PackReport, type RunOptions } from './model.ts';

export const CORPUS_SCHEMA = 'packcheck/corpus@1';

export function corpusReport(reports: PackReport[], options: RunOptions, durationMs: number) {
  const summary = { packs: reports.length, ...sumSummaries(reports.map((r) => r.summary), durationMs) };
  return {
    schema: CORPUS_SCHEMA,
    tool: TOOL,
    options,
    shard: null,
    reports: reports.map(({ tool: _tool, options: _options, ...rest }) => rest),
    summary,
    exitCode: reports.some((r) => r.exitCode !== 0) ? 1 : 0,
  };
}

export function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
