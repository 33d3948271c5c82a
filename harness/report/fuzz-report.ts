// A fuzz campaign's report: the packcheck/fuzz@1 JSON (REPORT.md) and its
// terminal form (the status line and the final summary, each finding in the
// battery's failure format with its replay line).
import type { Template } from '../abi/registration.ts';
import type { CampaignResult, CampaignStats } from '../fuzz/campaign.ts';
import { resultLine } from './terminal.ts';
import { TOOL } from './model.ts';
import type { ExpectationsSection } from '../run/expect.ts';
import type { Finding } from '../fuzz/campaign.ts';

export const FUZZ_SCHEMA = 'packcheck/fuzz@1';

export interface FuzzOptions {
  seed: number;
  timeS: number | null;
  maxExecs: number | null;
  jobs: number;
  corpus: string | null;
  dict: boolean;
  /** --dict FILE (tokens merged with the harvested dictionary), or null. */
  dictFile?: string | null;
  cmplog: boolean;
  /** false with --no-feedback (plain generation, the baseline). */
  feedback?: boolean;
  timeoutMs: number;
}

/**
 * `expected`: the findings an --expect entry covers, with its reason (marked
 * `"expected": true` and not counted by the exit code); `expectations`: the
 * entries and what each met.
 */
export function fuzzReport(pack: { path: string; sha256: string; templates: Template[] }, options: FuzzOptions, r: CampaignResult, exitCode: number, expected: ReadonlyMap<Finding, string> = new Map(), expectations?: ExpectationsSection) {
  return {
    schema: FUZZ_SCHEMA,
    tool: TOOL,
    pack: { path: pack.path, sha256: pack.sha256, abi: 'wasm' as const, templates: pack.templates },
    options,
    stats: { execs: r.stats.execs, execsPerSec: r.stats.execsPerSec, edges: r.stats.edges, corpus: r.stats.corpus, durationMs: r.stats.durationMs, unconfirmed: r.stats.unconfirmed, dictionary: r.stats.dictionary },
    coverage: r.coverage,
    findings: r.findings.map((f) => ({ id: f.id, message: f.message, artifact: f.artifact, input: f.input, replay: f.replay, foundAtExec: f.foundAtExec, foundAtMs: f.foundAtMs, site: f.site, ...(expected.has(f) ? { expected: true as const, expectation: expected.get(f)! } : {}) })),
    ...(expectations ? { expectations } : {}),
    exitCode,
  };
}

export type FuzzReport = ReturnType<typeof fuzzReport>;

export function progressLine(s: CampaignStats): string {
  return `fuzz: ${s.execs} execs, ${Math.round(s.execs / Math.max(s.ms / 1000, 1e-3))} exec/s, edges ${s.edges}/${s.totalEdges}, corpus ${s.corpus}, findings ${s.findings}`;
}

/** A finding in the battery's failure format (terminal.ts resultLine). */
export function findingLines(f: FuzzReport['findings'][number], seed: number): string {
  return resultLine({ id: f.id, status: 'failed', runs: 1, durationMs: 0, seed, message: f.message, counterexample: f.input, replay: f.replay, ...('expected' in f ? { expected: true as const, expectation: f.expectation } : {}) });
}

export function fuzzSummaryLines(rep: FuzzReport): string[] {
  const s = rep.stats;
  const lines = [
    `packcheck fuzz ${rep.pack.path}`,
    `  seed ${rep.options.seed}, ${rep.options.jobs} job(s), dictionary ${rep.options.dict ? 'on' : 'off'}, CmpLog ${rep.options.cmplog ? 'on' : 'off'}, timeout ${rep.options.timeoutMs} ms per call`,
    `  ${s.execs} execs in ${(s.durationMs / 1000).toFixed(1)} s (${s.execsPerSec} exec/s), edges ${s.edges.covered}/${s.edges.total}, corpus ${s.corpus}${s.unconfirmed ? `, ${s.unconfirmed} violation(s) of the instrumented module not confirmed on the pack as it is (not reported)` : ''}`,
  ];
  for (const f of rep.findings) lines.push(findingLines(f, rep.options.seed));
  const known = rep.findings.filter((f) => 'expected' in f).length;
  lines.push(rep.findings.length ? `  ${rep.findings.length} finding(s)${known ? ` (${known} expected by --expect)` : ''}; artifacts in ${rep.findings[0]!.artifact.replace(/[^/\\]+$/, '')}` : '  no findings');
  return lines;
}
