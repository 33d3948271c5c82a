// Hand-built reports for the renderer tests (JUnit, HTML): results of any
// status with a replay line, and report@1 objects around them.
import { REPORT_SCHEMA, TOOL, summarize, exitCodeOf, type PackInfo, type PackReport, type PropertyResult, type RunOptions } from '../../harness/report/model.ts';

/** `durationMs`: of every result (default 3 ms + the id's length); `replayExtra`: words ending every default replay line. */
export function reportFixtures(options: RunOptions, packPath: string, fixed: { durationMs?: number; replayExtra?: string } = {}) {
  const res = (id: string, status: PropertyResult['status'], extra: Partial<PropertyResult> = {}): PropertyResult => {
    const r: PropertyResult = { id, status, runs: status === 'skipped' ? 0 : options.runs, durationMs: fixed.durationMs ?? 3 + id.length, seed: options.seed, ...extra };
    if ((status === 'failed' || status === 'errored') && !r.replay)
      r.replay = `packcheck ${packPath} --only ${id} --seed ${options.seed}${r.path ? ` --path ${r.path}` : ''}${typeof r.target === 'string' ? ` --target ${r.target}` : ''}${fixed.replayExtra ?? ''}`;
    return r;
  };
  const report = (pack: Partial<PackInfo> & { path: string }, results: PropertyResult[], timeline?: PackReport['timeline']): PackReport => {
    const info: PackInfo = { sha256: 'c0ffee'.padEnd(64, '0'), abi: 'wasm', abiVersion: 3, templates: [{ name: 'echo', factoryId: 0, inports: ['in'], outports: ['out'] }], imports: ['env.__reflow_pack_register_template'], ...pack };
    return { schema: REPORT_SCHEMA, tool: TOOL, pack: info, options: { ...options }, results, summary: summarize(results, 1834), exitCode: exitCodeOf(results), ...(timeline ? { timeline } : {}) };
  };
  return { res, report };
}
