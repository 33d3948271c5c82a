// Collects the results of one pack's check, as the runners of both ABIs
// produce them, and puts them in catalog order with each harness result
// (timeout, crash) right after the property it interrupted.
import { replayLine } from './replay.ts';
import type { PropertyResult } from './report/model.ts';
import type { CheckOptions, Outcome } from '../properties/types.ts';

export const SURVEY_PREFIX = 'while surveying';
export const duringPrefix = (id: string) => `during ${id}:`;

export class ResultCollector {
  private readonly byId = new Map<string, PropertyResult[]>();

  constructor(
    private readonly packPath: string,
    private readonly opts: CheckOptions,
    private readonly onResult?: (r: PropertyResult) => void,
    /** Extra replay words (such as `--entrypoint NAME`). */
    private readonly replayExtra: string[] = [],
    private readonly subcommand?: string,
  ) {}

  record(id: string, o: Outcome, durationMs: number): PropertyResult {
    const r: PropertyResult = { id, status: o.status, runs: o.runs, durationMs: Math.round(durationMs * 10) / 10, seed: this.opts.seed };
    if (o.message) r.message = o.message;
    if (o.counterexample !== undefined) r.counterexample = o.counterexample;
    if (o.path) r.path = o.path;
    if (o.status === 'failed' || o.status === 'errored') r.replay = [replayLine(this.packPath, id, this.opts, o.path, this.subcommand), ...this.replayExtra].join(' ');
    let list = this.byId.get(id);
    if (!list) this.byId.set(id, (list = []));
    list.push(r);
    this.onResult?.(r);
    return r;
  }

  ordered(ids: readonly string[]): PropertyResult[] {
    const harness = [...(this.byId.get('harness.timeout') ?? []), ...(this.byId.get('harness.crash') ?? [])];
    const out = harness.filter((r) => r.message?.startsWith(SURVEY_PREFIX));
    for (const id of ids) {
      out.push(...(this.byId.get(id) ?? []));
      out.push(...harness.filter((r) => r.message?.startsWith(duringPrefix(id))));
    }
    return out;
  }
}
