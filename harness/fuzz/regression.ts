// Regression mode, `packcheck PACK --inputs DIR`: every corpus input and fuzz
// artifact saved in DIR is replayed through the same oracles as a campaign's
// findings (judge.ts), on fresh instances of the pack as it is, in a worker
// under the watchdog: no instrumentation, no mutation, nothing random. An
// input that violates an id fails that id's result where the battery's own
// runs passed it, with the input as the counterexample and its replay line.
import { join } from 'node:path';
import type { PropertyResult } from '../report/model.ts';
import { replayCommand } from './artifacts.ts';
import { FuzzLane } from './lane.ts';
import { readCorpusFiles } from './merge.ts';
import { hangMessage } from './minimise.ts';
import type { Violated } from './judge.ts';
import type { FuzzInput } from './input.ts';

const BATCH = 64;

/** What one saved input did: its file and the first violation. */
export interface SavedInputFailure {
  file: string;
  input: FuzzInput;
  violated: Violated;
}

/** Replays DIR's inputs on the pack; the failures, in file-name order. */
export async function replaySaved(bytes: Uint8Array, dir: string, timeoutMs: number): Promise<SavedInputFailure[]> {
  const files = readCorpusFiles(dir);
  if (typeof files === 'string') return [];
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const failures: SavedInputFailure[] = [];
  let lane: FuzzLane | null = null;
  try {
    for (let at = 0; at < files.length; ) {
      if (!lane || lane.dead) lane = await FuzzLane.open({ bytes, timeoutMs, profile: 'sdk', plain: true, cmplog: false, instrumented: null });
      const chunk = files.slice(at, at + BATCH);
      // Inputs for a template this pack does not register are not run (judge.ts returns null for them).
      const got = await lane.judge(chunk.map((f) => f.input));
      if ('kind' in got) {
        const f = chunk[got.index]!;
        const id = got.kind === 'timeout' ? 'harness.timeout' : 'harness.crash';
        failures.push({ file: join(dir, f.name), input: f.input, violated: { id, message: got.kind === 'timeout' ? hangMessage(got.call, { timeoutMs }) : `the worker running the pack died: ${got.why}`, site: id, tick: -1 } });
        if (got.kind === 'timeout') await lane.close();
        at += got.index + 1;
        continue;
      }
      got.forEach((v, i) => v && failures.push({ file: join(dir, chunk[i]!.name), input: chunk[i]!.input, violated: v }));
      at += chunk.length;
    }
  } finally {
    await lane?.close();
  }
  return failures;
}

/**
 * The battery's results with the saved inputs' verdicts: the first input
 * that violates an id fails that id's result if it passed (a result that
 * already failed keeps the battery's own counterexample; an id the run left
 * out stays out). `harness.timeout` and `harness.crash` results are added
 * when an input hangs or kills the worker.
 */
export function applySaved(results: readonly PropertyResult[], failures: readonly SavedInputFailure[], packPath: string, dir: string): PropertyResult[] {
  const out = [...results];
  for (const f of failures) {
    const k = out.findIndex((r) => r.id === f.violated.id);
    const failed: PropertyResult = {
      id: f.violated.id,
      status: 'failed',
      runs: 1,
      durationMs: 0,
      seed: k >= 0 ? out[k]!.seed : 0,
      message: `${f.violated.message}\n    input: ${f.file} (saved in ${dir}, replayed by --inputs)`,
      counterexample: f.input,
      replay: replayCommand(packPath, f.file),
    };
    if (k >= 0 && out[k]!.status === 'passed') out[k] = { ...failed, runs: out[k]!.runs + 1 };
    else if (k < 0 && f.violated.id.startsWith('harness.') && !out.some((r) => r.id === f.violated.id && r.status === 'failed')) out.push(failed);
  }
  return out;
}
