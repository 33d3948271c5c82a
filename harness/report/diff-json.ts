// packcheck/diff@1 (../shared/REPORT.md): the JSON of `packcheck diff`.
import type { DiffResult } from '../run/diff/diff.ts';
import type { DiffOptions } from '../run/diff/model.ts';
import { TOOL } from './model.ts';

export const DIFF_SCHEMA = 'packcheck/diff@1';

/** Exit 1 when a difference is not listed with --allow. */
export function diffExitCode(r: DiffResult): 0 | 1 {
  return r.differences.some((d) => !d.allowed) ? 1 : 0;
}

export function diffReport(r: DiffResult, o: DiffOptions) {
  return {
    schema: DIFF_SCHEMA,
    tool: TOOL,
    old: r.old,
    new: r.new,
    options: { seed: o.seed, runs: o.runs, ignoreErrorText: o.ignoreErrorText, allow: o.allow, timeoutMs: o.timeoutMs, ...(o.path !== undefined ? { path: o.path } : {}) },
    differences: r.differences,
    notes: r.notes,
    summary: { inputs: r.inputs, differences: r.differences.length, allowed: r.differences.filter((d) => d.allowed).length },
    exitCode: diffExitCode(r),
  };
}
