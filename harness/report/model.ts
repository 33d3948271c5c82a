// The result model every renderer (terminal, JSON, …) reads. The JSON form is
// ../shared/REPORT.md's `packcheck/report@1`.
import type { Template } from '../abi/registration.ts';
import type { Sample } from '../hosts/wasm/ledger.ts';

export const REPORT_SCHEMA = 'packcheck/report@1';
export const TOOL = { name: 'packcheck', version: '0.1.0' } as const;

export type Status = 'passed' | 'failed' | 'skipped' | 'errored';

export interface PropertyResult {
  id: string;
  status: Status;
  runs: number;
  durationMs: number;
  message?: string;
  counterexample?: unknown;
  seed: number;
  path?: string;
  target?: string | null;
  replay?: string;
  /** Runs that reached the property's check (fast-check properties; fewer than `runs` when some runs stopped at a step). */
  reached?: number;
  /** With status `skipped`: the failed result whose defect stood in the way (REPORT.md, Blocked results). */
  blockedBy?: string;
  /** The step that broke (blocked results), or the call in which a harness result cut the pack off. */
  step?: string;
  /** A failure's parts, as data (the message is their text): what was called, what came back, what was expected. */
  violation?: Violated;
  /** A failure an --expect entry or the --baseline covers: still failed, but it does not fail the run. */
  expected?: true;
  /** With `expected`: the covering entry's reason. */
  expectation?: string;
}

export interface Violated {
  call: string;
  got: string;
  expected: string;
}

export interface PackInfo {
  path: string;
  sha256: string;
  abi: 'wasm' | 'vtable' | 'bundle' | null;
  abiVersion: number | null;
  templates: Template[];
  imports: string[];
  /** Bundles: one entry per target of the manifest. */
  targets?: { triple: string; file: string; abi: 'wasm' | 'vtable' | null; abiVersion: number | null }[];
}

export interface RunOptions {
  seed: number;
  runs: number;
  timeoutMs: number;
  profile: 'sdk' | 'legacy';
}

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  errored: number;
  durationMs: number;
  /** With --expect/--baseline: expected failures (not counted in failed or errored). */
  xfail?: number;
  /** With --expect: stale entries, each an unexpected pass that fails the run. */
  unexpectedPass?: number;
}

export interface PackReport {
  schema: typeof REPORT_SCHEMA;
  tool: typeof TOOL;
  pack: PackInfo;
  options: RunOptions;
  results: PropertyResult[];
  summary: Summary;
  exitCode: 0 | 1;
  timeline?: Sample[];
  /** Set when the run was stopped from outside (a signal, the caller gone): the results are those checked so far. */
  interrupted?: string;
}

// This module owns what every renderer and runner asks of results: which
// statuses fail a run, how results are counted, the exit code, the family of
// an id. Renderers only render.

export const STATUSES: readonly Status[] = ['passed', 'failed', 'errored', 'skipped'];

/** The statuses that force exit 1, unless the failure is expected (--expect, --baseline). */
export const isFailing = (r: Pick<PropertyResult, 'status'> & { expected?: boolean }): boolean => (r.status === 'failed' || r.status === 'errored') && !r.expected;

/** A failure an expectation covers: shown as xfail, counted apart. */
export const isExpected = (r: Pick<PropertyResult, 'expected'>): boolean => r.expected === true;

/** Skipped because another id's failure stood in the way (REPORT.md, Blocked results). */
export const isBlocked = (r: Pick<PropertyResult, 'blockedBy'>): boolean => !!r.blockedBy;

/** Results per status. */
export function countStatuses(results: readonly Pick<PropertyResult, 'status'>[]): Record<Status, number> {
  const c: Record<Status, number> = { passed: 0, failed: 0, errored: 0, skipped: 0 };
  for (const r of results) c[r.status]++;
  return c;
}

/** The family of an id, its last word dropped: `wasm.run.valid-payload` → `wasm.run`, `harness.load` → `harness`. */
export function familyOf(id: string): string {
  const i = id.lastIndexOf('.');
  return i > 0 ? id.slice(0, i) : id;
}

export function summarize(results: readonly PropertyResult[], durationMs: number): Summary {
  const xfail = results.filter(isExpected).length;
  return { ...countStatuses(results.filter((r) => !isExpected(r))), durationMs, ...(xfail ? { xfail } : {}) };
}

/** The summary of several reports together (a corpus). */
export function sumSummaries(summaries: readonly Summary[], durationMs: number): Summary {
  const s: Summary = { passed: 0, failed: 0, skipped: 0, errored: 0, durationMs };
  for (const x of summaries) for (const k of STATUSES) s[k] += x[k];
  for (const k of ['xfail', 'unexpectedPass'] as const) if (summaries.some((x) => x[k] !== undefined)) s[k] = summaries.reduce((n, x) => n + (x[k] ?? 0), 0);
  return s;
}

export function exitCodeOf(results: readonly PropertyResult[]): 0 | 1 {
  return results.some(isFailing) ? 1 : 0;
}

/** The report@1 object of one checked pack. */
export function packReport(pack: PackInfo, options: RunOptions, results: PropertyResult[], startedAt: number): PackReport {
  const durationMs = Math.round(performance.now() - startedAt);
  return { schema: REPORT_SCHEMA, tool: TOOL, pack, options, results, summary: summarize(results, durationMs), exitCode: exitCodeOf(results) };
}
