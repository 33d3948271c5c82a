// `packcheck compare BASE NEW`: what changed between two reports, per pack
// and id (REPORT.md, `packcheck/compare@1`). Packs are matched by path
// relative to the cwd; results by bundle target and id. A failure that stays
// a failure is "changed" only when its structured parts differ (the step,
// the function called, what was expected, failed vs errored), with addresses
// masked: a pack rebuilt with another layout fails at other addresses
// without failing differently.
import { runPath } from '../run/expect.ts';
import type { ReportFile, ReportedPack } from '../run/report-file.ts';
import { TOOL, type PropertyResult } from './model.ts';

export const COMPARE_SCHEMA = 'packcheck/compare@1';

export const CHANGE_KINDS = ['newly-failing', 'fixed', 'still-failing-changed', 'newly-skipped', 'newly-blocked', 'pack-added', 'pack-removed'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface Change {
  pack: string;
  /** null for pack-added and pack-removed. */
  id: string | null;
  /** Bundles: the target triple of the results compared. */
  target?: string | null;
  kind: ChangeKind;
  base: PropertyResult | null;
  new: PropertyResult | null;
  /** In words, what differs (for the terminal, JUnit and HTML). */
  detail: string;
}

export interface ReportSide {
  file: string;
  schema: ReportFile['schema'];
  packs: number;
  seed: number | null;
}

export type CompareSummary = Record<'newlyFailing' | 'fixed' | 'stillFailingChanged' | 'newlySkipped' | 'newlyBlocked' | 'packAdded' | 'packRemoved', number>;

export interface Comparison {
  schema: typeof COMPARE_SCHEMA;
  tool: typeof TOOL;
  base: ReportSide;
  new: ReportSide;
  changes: Change[];
  summary: CompareSummary;
  exitCode: 0 | 1;
}

const SUMMARY_KEY: Record<ChangeKind, keyof CompareSummary> = {
  'newly-failing': 'newlyFailing',
  fixed: 'fixed',
  'still-failing-changed': 'stillFailingChanged',
  'newly-skipped': 'newlySkipped',
  'newly-blocked': 'newlyBlocked',
  'pack-added': 'packAdded',
  'pack-removed': 'packRemoved',
};

/** Failing as the pack behaved, whether or not an expectation covered it. */
const failing = (r: PropertyResult | undefined) => r?.status === 'failed' || r?.status === 'errored';

/** Addresses and other large numbers (pointers, lengths of generated inputs) masked; small codes and counts kept. */
export function maskNumbers(s: string | undefined): string {
  return (s ?? '').replace(/0x[0-9a-f]+/gi, '0x…').replace(/\d{4,}/g, '…');
}

/** The function a violation called (`__reflow_pack_actor_run(instance=1, payload_ptr=…)` → `__reflow_pack_actor_run`). */
function calledFunction(call: string | undefined): string {
  return maskNumbers((call ?? '').split('(', 1)[0]!.trim());
}

/** The parts of a failure compared across reports, in words, keyed by what they are. */
export function failureShape(r: PropertyResult): Record<string, string> {
  return {
    status: r.status,
    step: maskNumbers(r.step),
    call: calledFunction(r.violation?.call),
    expected: maskNumbers(r.violation?.expected),
  };
}

function shapeDifference(a: PropertyResult, b: PropertyResult): string | null {
  const x = failureShape(a);
  const y = failureShape(b);
  const diffs = Object.keys(x).filter((k) => x[k] !== y[k]).map((k) => `${k}: ${JSON.stringify(x[k])} → ${JSON.stringify(y[k])}`);
  return diffs.length ? diffs.join('; ') : null;
}

const firstLine = (s: string | undefined) => (s ?? '').split('\n', 1)[0]!;

/** Results keyed by target and id; a repeated id (several harness.timeout results) keeps its order. */
function keyed(results: readonly PropertyResult[]): Map<string, PropertyResult> {
  const m = new Map<string, PropertyResult>();
  for (const r of results) {
    const base = JSON.stringify([typeof r.target === 'string' ? r.target : null, r.id]);
    let key = base;
    for (let n = 2; m.has(key); n++) key = `${base}#${n}`;
    m.set(key, r);
  }
  return m;
}

/** The change of one result between the reports, or null when nothing a maintainer gates on changed. */
function classify(b: PropertyResult | undefined, n: PropertyResult | undefined): { kind: ChangeKind; detail: string } | null {
  if (!n) return null; // Not run in the new report (--only, another target): nothing to judge.
  if (failing(n)) {
    if (!failing(b)) return { kind: 'newly-failing', detail: `${b ? `was ${b.status}` : 'not in the base report'}; now ${n.status}: ${firstLine(n.message)}` };
    const d = shapeDifference(b!, n);
    return d ? { kind: 'still-failing-changed', detail: d } : null;
  }
  // A result with no counterpart in the base (a pack or an id added) is news only when it fails.
  if (!b) return null;
  if (n.blockedBy && n.blockedBy !== b.blockedBy) return { kind: 'newly-blocked', detail: `blocked by ${n.blockedBy} (was ${b.blockedBy ? `blocked by ${b.blockedBy}` : b.status})` };
  if (n.status === 'skipped' && !n.blockedBy && b.status !== 'skipped') return { kind: 'newly-skipped', detail: `was ${b.status}; now skipped: ${firstLine(n.message)}` };
  if (failing(b) && n.status === 'passed') return { kind: 'fixed', detail: `was ${b.status}; now passed` };
  return null;
}

function side(r: ReportFile): ReportSide {
  return { file: r.file, schema: r.schema, packs: r.packs.length, seed: Number.isInteger(r.options?.seed) ? r.options.seed : null };
}

export function compareReports(base: ReportFile, next: ReportFile, cwd = process.cwd()): Comparison {
  const byPath = (f: ReportFile) => new Map<string, ReportedPack>(f.packs.map((p) => [runPath(p.path, cwd), p]));
  const b = byPath(base);
  const n = byPath(next);
  const changes: Change[] = [];
  for (const path of [...new Set([...b.keys(), ...n.keys()])].sort()) {
    const bp = b.get(path);
    const np = n.get(path);
    if (!np) {
      changes.push({ pack: path, id: null, kind: 'pack-removed', base: null, new: null, detail: 'in the base report only' });
      continue;
    }
    if (!bp) changes.push({ pack: path, id: null, kind: 'pack-added', base: null, new: null, detail: 'in the new report only' });
    const br = keyed(bp?.results ?? []);
    const nr = keyed(np.results);
    for (const [key, r] of nr) {
      const c = classify(br.get(key), r);
      if (c) changes.push({ pack: path, id: r.id, ...(typeof r.target === 'string' ? { target: r.target } : {}), kind: c.kind, base: br.get(key) ?? null, new: r, detail: c.detail });
    }
  }
  const summary = Object.fromEntries(Object.values(SUMMARY_KEY).map((k) => [k, 0])) as CompareSummary;
  for (const c of changes) summary[SUMMARY_KEY[c.kind]]++;
  return { schema: COMPARE_SCHEMA, tool: TOOL, base: side(base), new: side(next), changes, summary, exitCode: summary.newlyFailing ? 1 : 0 };
}
