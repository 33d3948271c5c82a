// Minimising a finding: fewer ticks, smaller Messages, shorter strings,
// kept only while the uninstrumented pack still fails with the same id at
// the same site. Candidates are judged in batches on a plain lane; greedy,
// first success wins, until no candidate helps or the budget is spent.
import { describeCall } from '../kernel/call-guard.ts';
import { clone, parseTree, printTree, slotsOf, treeSize } from './json-tree.ts';
import { inputSize, type FuzzInput } from './input.ts';
import type { Violated } from './judge.ts';
import type { FuzzLane, LaneOptions } from './lane.ts';

/** Smaller variants of an input, most promising (fewest ticks) first. */
export function candidates(input: FuzzInput, tick: number): FuzzInput[] {
  const out: FuzzInput[] = [];
  const t = input.ticks;
  if (tick >= 0 && tick < t.length - 1) out.push({ ...input, ticks: t.slice(0, tick + 1) });
  for (let i = 0; i < t.length; i++) if (t.length > 1) out.push({ ...input, ticks: t.filter((_, j) => j !== i) });
  t.forEach((p, i) => {
    if (typeof p !== 'string') {
      if (p.hex.length > 2) out.push(withTick(input, i, { hex: p.hex.slice(0, Math.floor(p.hex.length / 4) * 2) }));
      return;
    }
    const root = parseTree(p);
    if (!root) {
      if (p.length > 1) out.push(withTick(input, i, p.slice(0, Math.floor(p.length / 2))), withTick(input, i, p.slice(Math.ceil(p.length / 2))));
      return;
    }
    const n = slotsOf(root).length;
    for (let k = 1; k < n; k++) {
      // Delete a member or element; replace a subtree with a leaf; halve a string.
      const del = clone(root);
      const s = slotsOf(del)[k]!;
      if (s.owner) {
        if ('obj' in s.owner) s.owner.obj.members.splice(s.owner.index, 1);
        else s.owner.arr.items.splice(s.owner.index, 1);
        out.push(withTick(input, i, printTree(del)));
      }
      const orig = slotsOf(root)[k]!.node;
      if (orig.t === 'str' && orig.v.length > 1) {
        const half = clone(root);
        slotsOf(half)[k]!.replace!({ t: 'str', v: orig.v.slice(0, Math.floor(orig.v.length / 2)) });
        out.push(withTick(input, i, printTree(half)));
      }
      if ((orig.t === 'obj' || orig.t === 'arr') && treeSize(orig) > 1) {
        const leaf = clone(root);
        slotsOf(leaf)[k]!.replace!(orig.t === 'obj' ? { t: 'obj', members: [] } : { t: 'arr', items: [] });
        out.push(withTick(input, i, printTree(leaf)));
      }
    }
  });
  return out.filter((c) => inputSize(c) < inputSize(input) || c.ticks.length < input.ticks.length);
}

function withTick(input: FuzzInput, i: number, p: FuzzInput['ticks'][number]): FuzzInput {
  const ticks = [...input.ticks];
  ticks[i] = p;
  return { ...input, ticks };
}

export interface Minimiser {
  lane: () => Promise<FuzzLane>;
  /** Candidate inputs judged at most (each is one execution). */
  budget: number;
}

/** The smallest input found that still violates `target` (same id and site), with its verdict. */
export async function minimise(input: FuzzInput, target: Violated, m: Minimiser): Promise<{ input: FuzzInput; violated: Violated; execs: number }> {
  let best = input;
  let verdict = target;
  let execs = 0;
  const same = (v: Violated | null) => v !== null && v.id === target.id && v.site === target.site;
  outer: while (execs < m.budget) {
    const cands = candidates(best, verdict.tick).slice(0, m.budget - execs);
    if (!cands.length) break;
    for (let at = 0; at < cands.length; ) {
      const lane = await m.lane();
      const chunk = cands.slice(at, at + 32);
      const got = await lane.judge(chunk);
      if ('kind' in got) {
        // A candidate that hangs is not the same finding (unless the finding is the hang, handled apart); skip it.
        execs += got.index + 1;
        at += got.index + 1;
        continue;
      }
      execs += chunk.length;
      const k = got.findIndex(same);
      if (k >= 0) {
        best = chunk[k]!;
        verdict = got[k]!;
        continue outer;
      }
      at += chunk.length;
    }
    break;
  }
  return { input: best, violated: verdict, execs };
}

/** A hang, minimised by ticks only: each candidate that still hangs costs a timeout and a worker. */
export async function minimiseHang(input: FuzzInput, open: () => Promise<FuzzLane>, budget: number): Promise<FuzzInput> {
  let best = input;
  for (let tries = 0; tries < budget && best.ticks.length > 1; ) {
    let shrunk = false;
    for (let i = 0; i < best.ticks.length && tries < budget; i++, tries++) {
      const cand = { ...best, ticks: best.ticks.filter((_, j) => j !== i) };
      const lane = await open();
      const got = await lane.judge([cand]);
      if ('kind' in got && got.kind === 'timeout') {
        best = cand;
        shrunk = true;
        break;
      }
    }
    if (!shrunk) break;
  }
  return best;
}

/** A timeout as a finding's message: the call cut off, its arguments and the limit. */
export function hangMessage(call: { call: string; args?: number[]; budgetMs: number } | null, opts: Pick<LaneOptions, 'timeoutMs'>): string {
  if (!call) return `a pack call did not return within ${opts.timeoutMs} ms (--timeout-ms)`;
  return `${describeCall(call.call, call.args ?? [])} did not return within ${call.budgetMs} ms (--timeout-ms); the worker running it was stopped and the campaign went on`;
}
