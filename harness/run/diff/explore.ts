// The search for behaviour differences: one fast-check property ("both builds
// answer this input alike") over generated inputs, with the diff's seed. Each
// failure is shrunk to a small input; then the search runs again from the same
// seed with that difference's signature (kind, template, input class) counted
// as agreement, so the next distinct difference is found too, each with its
// own replay path. Replaying a path (`--path`) evaluates exactly that input
// and nothing else (endOnFailure: no further shrinking).
import fc from 'fast-check';
import type { DiffKind } from './model.ts';

export interface Finding<I, E> {
  input: I;
  seen: E;
  kind: DiffKind;
  /** fast-check's path: replays this input with the same seed. */
  path: string;
}

export interface ExploreOptions<I> {
  seed: number;
  runs: number;
  path?: string;
  /** Inputs tried first (the accept-all schedule, for instance). */
  examples?: I[];
  /** Distinct differences to look for at most. */
  max?: number;
}

/** `classify`: the kind and signature of the difference the answers show, or null when they agree. */
export async function explore<I, E>(arb: fc.Arbitrary<I>, opts: ExploreOptions<I>, evaluate: (input: I) => Promise<E>, classify: (input: I, seen: E) => { kind: DiffKind; signature: string } | null): Promise<{ findings: Finding<I, E>[]; inputs: number }> {
  const known = new Set<string>();
  const findings: Finding<I, E>[] = [];
  let inputs = 0;
  for (let round = 0; round < (opts.max ?? 8); round++) {
    let harnessError: unknown = null;
    let last: { input: I; seen: E; kind: DiffKind; signature: string } | null = null;
    const prop = fc.asyncProperty(arb, async (input) => {
      inputs++;
      let seen: E;
      try {
        seen = await evaluate(input);
      } catch (e) {
        harnessError = e;
        throw e;
      }
      const c = classify(input, seen);
      if (!c || known.has(c.signature)) return true;
      last = { input, seen, ...c };
      return false;
    });
    const replay = opts.path !== undefined;
    const details = await fc.check(prop, { seed: opts.seed, numRuns: opts.runs, ...(replay ? { path: opts.path, endOnFailure: true } : {}), examples: (opts.examples ?? []).map((e) => [e] as [I]) });
    if (harnessError) throw harnessError;
    if (!details.failed || !last) break;
    // The last failing evaluation is the shrunk counterexample (shrinking stops at a value none of whose smaller ones fail).
    const hit = last as { input: I; seen: E; kind: DiffKind; signature: string };
    known.add(hit.signature);
    findings.push({ input: hit.input, seen: hit.seen, kind: hit.kind, path: replay ? opts.path! : (details.counterexamplePath ?? '') });
    if (replay) break;
  }
  return { findings, inputs };
}
