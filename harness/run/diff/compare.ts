// Where two builds' answers to the same input first part ways, and what kind
// of difference that is (REPORT.md, packcheck/diff@1).
import { sameResult } from './json-equal.ts';
import { isTrap, type RegistrationSeen, type SequenceSeen, type TickSeen } from './observation.ts';
import type { DiffKind } from './model.ts';

export interface Divergence {
  kind: DiffKind;
  /** -1: create_actor; else the tick index. */
  tick: number;
}

/** The kind of difference between two answers to one tick, or null when they agree. */
export function tickDifference(a: TickSeen, b: TickSeen, ignoreErrorText: boolean): DiffKind | null {
  if (isTrap(a) || isTrap(b)) return isTrap(a) && isTrap(b) && a.key === b.key ? null : 'trap';
  if ((a.status === 0) !== (b.status === 0)) return 'error-vs-success';
  if (a.status !== b.status) return 'status';
  // Same status: the result, unless it is an error whose text is to be ignored.
  if (a.status !== 0 && ignoreErrorText) return null;
  return sameResult(a.result, b.result) ? null : 'output';
}

export function sequenceDifference(a: SequenceSeen, b: SequenceSeen, ignoreErrorText: boolean): Divergence | null {
  if (a.created !== b.created) {
    const trapped = a.ticks.some(isTrap) || b.ticks.some(isTrap);
    return { kind: trapped ? 'trap' : 'error-vs-success', tick: -1 };
  }
  const n = Math.max(a.ticks.length, b.ticks.length);
  for (let i = 0; i < n; i++) {
    const ta = a.ticks[i];
    const tb = b.ticks[i];
    // One stopped (it trapped earlier, which already differed) while the other went on.
    if (!ta || !tb) return { kind: 'trap', tick: i };
    const kind = tickDifference(ta, tb, ignoreErrorText);
    if (kind) return { kind, tick: a.created ? i : -1 };
  }
  return null;
}

/** Native: the registration sequence (status, ids, answers) first, then who freed what. */
export function registrationDifference(a: RegistrationSeen, b: RegistrationSeen): DiffKind | null {
  if ('cut' in a || 'cut' in b) {
    if ('cut' in a && 'cut' in b && a.stage === b.stage) return null;
    const stage = 'cut' in a ? a.stage : 'cut' in b ? b.stage : 'register';
    return stage === 'drop' ? 'ownership' : 'registration';
  }
  const seq = (s: typeof a & { calls: unknown }) => JSON.stringify([s.status, s.calls.map((c) => [c.id, c.answer])]);
  if (seq(a) !== seq(b)) return 'registration';
  return a.calls.every((c, i) => c.ownership === b.calls[i]!.ownership) ? null : 'ownership';
}
