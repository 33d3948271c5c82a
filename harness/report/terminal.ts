// The human report: one line per result, and for each failure what was
// called, what came back, what was expected, the counterexample and the
// command that replays it.
import type { PackReport, PropertyResult } from './model.ts';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
const MARK: Record<PropertyResult['status'], string> = {
  passed: paint(32, 'pass'),
  failed: paint(31, 'FAIL'),
  errored: paint(35, 'ERROR'),
  skipped: paint(33, 'skip'),
};

/** An expected failure (--expect, --baseline). */
const XFAIL = paint(36, 'xfail');

const indent = (s: string, pad: string) => s.split('\n').map((l) => pad + l).join('\n');

function counterexampleText(ce: unknown): string {
  const s = typeof ce === 'string' ? ce : JSON.stringify(ce, null, 1)?.replace(/\n\s*/g, ' ') ?? String(ce);
  return s.length > 1200 ? `${s.slice(0, 1200)}… (${s.length} chars)` : s;
}

export function resultLine(r: PropertyResult): string {
  const runs = r.reached !== undefined && r.reached < r.runs && r.status !== 'skipped' ? `${r.reached}/${r.runs} runs` : r.runs === 1 ? '1 run' : `${r.runs} runs`;
  const head = `  ${(r.expected ? XFAIL : MARK[r.status]).padEnd(useColor ? 14 : 5)} ${r.id.padEnd(28)} ${runs.padStart(9)} ${`${Math.round(r.durationMs)} ms`.padStart(9)}`;
  if (r.status === 'passed') return head;
  if (r.expected) return `${head}  expected: ${r.expectation ?? ''}`;
  if (r.status === 'skipped') return `${head}  ${r.message ?? ''}`;
  const parts = [head];
  if (r.message) parts.push(indent(r.message, '      '));
  if (r.counterexample !== undefined) parts.push(`      counterexample: ${counterexampleText(r.counterexample)}`);
  if (r.replay) parts.push(`      replay: ${r.replay}`);
  return parts.join('\n');
}

/**
 * The result lines of one report: blocked results are not listed one by
 * one but grouped under the failure that blocked them ("29 properties
 * blocked by wasm.shape.exports"), so one defect reads as one red line.
 */
export function resultLines(results: readonly PropertyResult[]): string[] {
  const blocked = new Map<string, PropertyResult[]>();
  for (const r of results) if (r.blockedBy) blocked.set(r.blockedBy, [...(blocked.get(r.blockedBy) ?? []), r]);
  const lines: string[] = [];
  const shown = new Set<string>();
  for (const r of results) {
    if (r.blockedBy) continue;
    lines.push(resultLine(r));
    const under = blocked.get(r.id);
    if (under && !shown.has(r.id)) {
      shown.add(r.id);
      const steps = [...new Set(under.map((b) => b.step).filter(Boolean))];
      lines.push(`  ${MARK.skipped.padEnd(useColor ? 14 : 5)} ${under.length} ${under.length === 1 ? 'property' : 'properties'} blocked by ${r.id}${steps.length === 1 ? ` (at: ${steps[0]})` : ''}: ${under.map((b) => b.id).join(', ')}`);
    }
  }
  // Blocked by a result not in this list (cannot happen in a settled report; shown rather than lost).
  for (const [by, under] of blocked) if (!shown.has(by)) for (const b of under) lines.push(resultLine(b));
  return lines;
}

/** One line saying what the pack is not, when a single root failure says the file is not a Reflow pack at all. */
export function notAPackLine(rep: Pick<PackReport, 'results'>): string | null {
  const shape = rep.results.find((r) => r.id === 'wasm.shape.exports' && r.status === 'failed');
  if (!shape) return null;
  const others = rep.results.filter((r) => r.id !== 'wasm.shape.exports' && !r.id.startsWith('harness.') && r.id !== 'wasm.load.instantiate');
  if (!others.length || !others.every((r) => r.blockedBy === 'wasm.shape.exports')) return null;
  return '  this does not look like a Reflow pack: it has none of the __reflow_pack_* exports the battery needs (see wasm.shape.exports)';
}

export function packHeader(rep: Pick<PackReport, 'pack' | 'options'>): string {
  const p = rep.pack;
  // The vtable ABI carries no port metadata: names only.
  const t = p.templates.map((t) => (p.abi === 'vtable' ? t.name : `${t.name} (in: ${t.inports.join(', ') || '-'}; out: ${t.outports.join(', ') || '-'})`)).join(', ');
  const extra = p.imports.filter((i) => i !== 'env.__reflow_pack_register_template');
  return [
    `packcheck ${p.path}`,
    `  abi ${p.abi ?? '?'}, abi version ${p.abiVersion ?? '?'}, sha256 ${p.sha256.slice(0, 16)}…`,
    `  templates: ${t || 'none'}`,
    ...(extra.length ? [`  other imports (stubbed, failing when called): ${extra.join(', ')}`] : []),
    `  seed ${rep.options.seed}, ${rep.options.runs} runs per property, timeout ${rep.options.timeoutMs} ms per call, profile ${rep.options.profile}`,
  ].join('\n');
}

export function summaryLine(rep: Pick<PackReport, 'summary' | 'exitCode'>): string {
  const s = rep.summary;
  const verdict = rep.exitCode === 0 ? paint(32, 'conforms') : paint(31, 'does not conform');
  const expect = `${s.xfail !== undefined ? `, ${s.xfail} xfail` : ''}${s.unexpectedPass !== undefined ? `, ${s.unexpectedPass} unexpected pass` : ''}`;
  return `  ${verdict}: ${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped${expect} in ${(s.durationMs / 1000).toFixed(1)} s`;
}
