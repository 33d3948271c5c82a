// The terminal form of `packcheck diff`: one block per difference, saying
// what was given, what each build answered and how to see it again.
import type { DiffResult } from '../run/diff/diff.ts';
import type { Difference } from '../run/diff/model.ts';
import { diffExitCode } from './diff-json.ts';

const show = (v: unknown): string => (v === null || v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v));

function answerLines(label: string, v: unknown, tick: number | undefined): string[] {
  if (!Array.isArray(v)) return [`      ${label}: ${show(v)}`];
  // Tick by tick; the first tick that differs is marked.
  return v.map((x, i) => `      ${i === 0 ? label : ' '.repeat(label.length)}: ${v.length > 1 ? `tick ${i + 1}: ` : ''}${show(x)}${i === tick && v.length > 1 ? '   <- differs' : ''}`);
}

function inputLines(d: Difference): string[] {
  const inp = d.input as { template?: string; ticks?: { kind: string; payload: string }[]; schedule?: string; hostData?: string } | undefined;
  if (!inp) return [];
  if (inp.ticks) return [`      input: template ${JSON.stringify(inp.template)}, ${inp.ticks.length} tick${inp.ticks.length === 1 ? '' : 's'} on one instance:`, ...inp.ticks.map((t, i) => `        ${i + 1}. ${t.kind}: ${t.payload}`)];
  if (inp.schedule) return [`      input: a host that will ${inp.schedule} (host_data ${inp.hostData})`];
  return [`      input: ${show(inp)}`];
}

export function diffLines(r: DiffResult): string[] {
  const out = [`packcheck diff: old ${r.old.path} (${r.old.abi}, sha256 ${r.old.sha256.slice(0, 12)}…)`, `                new ${r.new.path} (${r.new.abi}, sha256 ${r.new.sha256.slice(0, 12)}…)`];
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const d of r.differences) {
    const about = d.name ? ` ${d.name}` : d.template ? ` (template ${JSON.stringify(d.template)})` : '';
    out.push('', `  ${d.allowed ? 'allowed' : 'DIFF   '}  ${d.kind}${about}`);
    out.push(...inputLines(d));
    out.push(...answerLines('old', d.old, d.tick), ...answerLines('new', d.new, d.tick));
    out.push(`      replay: ${d.replay}`);
  }
  const failing = r.differences.filter((d) => !d.allowed).length;
  const allowed = r.differences.length - failing;
  out.push('', `${r.differences.length === 0 ? 'no differences' : `${r.differences.length} difference${r.differences.length === 1 ? '' : 's'}${allowed ? ` (${allowed} allowed)` : ''}`}; ${r.inputs} generated inputs run through both builds; exit ${diffExitCode(r)}`);
  return out;
}
