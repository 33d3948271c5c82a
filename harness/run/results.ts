// Collects the results of one check, as every runner produces them, and
// settles attribution (PROPERTIES.md, "Attribution"): results in catalog
// order, each harness result right after the property it interrupted (or
// first, when it interrupted the survey), and every blocked result naming a
// failed result of the same report.
import { replayLine } from './replay.ts';
import { isFailing, type PropertyResult } from '../report/model.ts';
import type { CheckOptions, Outcome } from '../../properties/types.ts';

/** Where a harness result happened: the survey (load, version, first registration) or a property. */
export const SURVEY = 'survey';

interface Recorded {
  result: PropertyResult;
  /** The property (or SURVEY) a harness result interrupted. */
  during?: string;
}

export class ResultCollector {
  private readonly all: Recorded[] = [];

  constructor(
    private readonly packPath: string,
    private readonly opts: CheckOptions,
    private readonly onResult?: (r: PropertyResult) => void,
    /** Extra replay words (such as `--entrypoint NAME`). */
    private readonly replayExtra: string[] = [],
    private readonly subcommand?: string,
  ) {}

  replayOf(id: string, path?: string): string {
    return [replayLine(this.packPath, id, this.opts, path, this.subcommand), ...this.replayExtra].join(' ');
  }

  /** Records one outcome; `during` places a harness result after the property it interrupted. */
  record(id: string, o: Outcome, durationMs: number, during?: string): PropertyResult {
    const r: PropertyResult = { id, status: o.status, runs: o.runs, durationMs: Math.round(durationMs * 10) / 10, seed: this.opts.seed };
    if (o.reached !== undefined) r.reached = o.reached;
    if (o.blockedBy) r.blockedBy = o.blockedBy;
    if (o.step) r.step = o.step;
    if (o.violation) r.violation = o.violation;
    if (o.message) r.message = o.message;
    if (o.counterexample !== undefined) r.counterexample = o.counterexample;
    if (o.path) r.path = o.path;
    // A harness result replays the property it interrupted (`--only harness.timeout` would select nothing); one from the survey, the whole check.
    if (isFailing(o)) r.replay = id.startsWith('harness.') ? this.replayOf(during && during !== SURVEY ? during : '') : this.replayOf(id, o.path);
    this.all.push({ result: r, during });
    this.onResult?.(r);
    return r;
  }

  has(id: string): boolean {
    return this.all.some((x) => x.result.id === id);
  }

  /** Ids some result is blocked by that have no result yet (filtered out by --only/--skip: they must run anyway). */
  missingBlockers(): string[] {
    return [...new Set(this.all.map((x) => x.result.blockedBy).filter((b): b is string => !!b && !this.has(b)))];
  }

  /**
   * `id` relies on `on` (PackProperty.reliesOn): when both failed, `id`'s
   * failure is a consequence, and it is blocked by the first of `on` that failed.
   */
  relyOn(id: string, on: readonly string[]): void {
    const mine = this.all.find((x) => x.result.id === id && x.result.status === 'failed');
    const root = on.map((o) => this.all.find((x) => x.result.id === o && x.result.status === 'failed')).find(Boolean);
    if (!mine || !root) return;
    const r = mine.result;
    mine.result = {
      id: r.id,
      status: 'skipped',
      runs: r.runs,
      reached: 0,
      durationMs: r.durationMs,
      seed: r.seed,
      blockedBy: root.result.id,
      message: `not evaluated on its own: it relies on ${root.result.id}, which failed (what it saw: ${(r.message ?? '').split('\n')[0]})`,
    };
  }

  /**
   * The results in order, attribution settled. A result blocked by an id
   * whose own runs did not fail (the step broke only in this property's runs)
   * turns that id's result into the failure it observed: the step's defect
   * violates the owner's statement, so the owner carries it, never the
   * blocked property.
   */
  ordered(ids: readonly string[]): PropertyResult[] {
    // A blocker that is itself blocked hands its blocker on: blockedBy names a failure.
    for (const x of this.all) {
      const seen = new Set<string>();
      for (let b = x.result.blockedBy; b && !seen.has(b); ) {
        seen.add(b);
        const next = this.all.find((y) => y.result.id === b)?.result;
        if (next?.status === 'skipped' && next.blockedBy) x.result.blockedBy = b = next.blockedBy;
        else break;
      }
    }
    for (const x of this.all) {
      const r = x.result;
      if (!r.blockedBy) continue;
      const owner = this.all.find((y) => y.result.id === r.blockedBy && y.result.status === 'failed');
      if (owner) continue;
      const stand = this.all.find((y) => y.result.id === r.blockedBy);
      const failure: PropertyResult = {
        id: r.blockedBy,
        status: 'failed',
        runs: stand?.result.runs ?? 0,
        durationMs: stand?.result.durationMs ?? 0,
        seed: this.opts.seed,
        step: r.step,
        message: `${(r.message ?? '').replace(/^not evaluated: a step it relies on broke \(see [^)]*\): /, '')}\n    (observed while checking ${r.id}; ${r.blockedBy}'s own runs did not meet it)`,
        ...(r.counterexample !== undefined ? { counterexample: r.counterexample } : {}),
        ...(r.path ? { path: r.path } : {}),
        replay: this.replayOf(r.id, r.path),
      };
      if (stand) stand.result = failure;
      else this.all.push({ result: failure });
    }
    const harness = this.all.filter((x) => x.result.id.startsWith('harness.'));
    const out = harness.filter((x) => x.during === SURVEY).map((x) => x.result);
    const order = [...ids, ...this.all.map((x) => x.result.id).filter((id) => !ids.includes(id) && !id.startsWith('harness.'))];
    for (const id of new Set(order)) {
      out.push(...this.all.filter((x) => x.result.id === id).map((x) => x.result));
      out.push(...harness.filter((x) => x.during === id).map((x) => x.result));
    }
    out.push(...harness.filter((x) => x.during !== SURVEY && !order.includes(x.during ?? '') && !order.includes(x.result.id)).map((x) => x.result));
    return out;
  }
}
