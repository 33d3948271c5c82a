// Coverage feedback alone (--no-dict --no-cmplog) finds the two deep
// targets that no dictionary or comparison log can shortcut: the stateful
// sequence (17, 42, 99 on one instance) and data bytes nested 6 deep. Each
// campaign is one lane with a fixed seed and an execution budget, so it is
// deterministic; the same budget without feedback (--no-feedback, fresh
// Messages from the battery's arbitraries) is the baseline it must beat.
// Also the pieces that make the climb short: the mutator's deterministic
// stage and the schedule's frontier.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { buildFuzzTarget } from './fuzz-targets.ts';
import { cli, expectReplays } from './fuzz-support.ts';
import { TokenBag } from '../harness/fuzz/dictionary.ts';
import type { FuzzInput } from '../harness/fuzz/input.ts';
import { ARITH_MAX, Mutator, prng } from '../harness/fuzz/mutate.ts';
import { FRESH_ENERGY, Schedule } from '../harness/fuzz/schedule.ts';

interface Finding {
  id: string;
  message: string;
  artifact: string;
  input: FuzzInput;
  foundAtExec: number;
}

/** `packcheck fuzz PACK --runs N --jobs 1 --seed S …`: exit code and the fuzz@1 findings. */
async function campaign(pack: string, runs: number, seed: number, ...extra: string[]): Promise<{ code: number; findings: Finding[]; execs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'pc-fuzz-deep-'));
  const json = join(dir, 'fuzz.json');
  const r = await cli('fuzz', pack, '--runs', String(runs), '--jobs', '1', '--seed', String(seed), '--artifacts', join(dir, 'artifacts'), '--json', json, '--timeout-ms', '500', ...extra);
  const report = JSON.parse(readFileSync(json, 'utf8')) as { findings: Finding[]; stats: { execs: number } };
  return { code: r.code, findings: report.findings, execs: report.stats.execs };
}

const COVERAGE_ALONE = ['--no-dict', '--no-cmplog'];

/**
 * The campaign with coverage alone finds `id` within `runs` (its message
 * naming `says`), and its artifact replays as that failure; the baseline
 * without feedback runs the whole budget and finds nothing.
 */
async function foundOnlyWithFeedback(pack: string, runs: number, seed: number, id: string, says: string): Promise<Finding> {
  const [on, off] = await Promise.all([campaign(pack, runs, seed, ...COVERAGE_ALONE), campaign(pack, runs, seed, '--no-feedback')]);
  expect(on.code).toBe(1);
  const hit = on.findings.find((f) => f.id === id);
  expect(hit, JSON.stringify(on.findings.map((f) => f.id))).toBeDefined();
  expect(hit!.foundAtExec).toBeLessThanOrEqual(runs);
  expect(hit!.message).toContain(says);
  await expectReplays(pack, hit!.artifact, id);
  expect([off.execs, off.findings.map((f) => f.id), off.code]).toEqual([runs, [], 0]);
  return hit!;
}

describe('coverage feedback alone finds the deep targets', () => {
  it('stateful (17, 42, 99 on one instance): found as wasm.alloc.integrity within 10000 executions at seed 1, replayed; --no-feedback with the same budget does not find it', async () => {
    const hit = await foundOnlyWithFeedback(await buildFuzzTarget('stateful'), 10000, 1, 'wasm.alloc.integrity', 'the payload block');
    expect(hit.input.ticks.map((t) => /"data":(\d+)/.exec(String(t))?.[1])).toEqual(['17', '42', '99']);
  }, 120_000);

  it('nesting (data bytes 6 deep): found as wasm.run.valid-payload within 4000 executions at seed 2, replayed, and the reference pack passes that input; --no-feedback with the same budget does not find it', async () => {
    const hit = await foundOnlyWithFeedback(await buildFuzzTarget('nesting'), 4000, 2, 'wasm.run.valid-payload', 'unreachable');
    // The planted trap, not a defect the target shares with the reference pack.
    expect((await cli('replay', await buildWat(WAT_REFERENCE, 'wat-reference'), hit.artifact)).code).toBe(0);
  }, 120_000);
});

function mutator(seed: number): Mutator {
  return new Mutator(prng(seed), { templates: [{ name: 'wat.echo', factoryId: 0, inports: ['in'], outports: [] }], messages: ['{"type":"Integer","data":0}'], strings: new TokenBag(8), ints: new TokenBag(8), cmpStrings: new TokenBag(8), cmpInts: new TokenBag(8) });
}

const tick = (n: number) => `{"input":{"in":{"type":"Integer","data":${n}}}}`;

describe('the deterministic stage', () => {
  it('steps the last tick\'s number by 1..ARITH_MAX both ways, sets it to interesting values and to every value of its width, in place and in an appended copy', () => {
    const children = [...mutator(1).stage({ template: 'wat.echo', ticks: [tick(5), tick(17)] })];
    const inPlace = new Set(children.filter((c) => c.ticks.length === 2 && c.ticks[0] === tick(5)).map((c) => c.ticks[1]));
    const appended = new Set(children.filter((c) => c.ticks.length === 3 && c.ticks[1] === tick(17)).map((c) => c.ticks[2]));
    expect(inPlace.size + appended.size).toBe(children.length);
    for (const v of [17 - ARITH_MAX, 16, 18, 42, 17 + ARITH_MAX, 99, 10, -128, 100, 1024, -2147483648, 2147483647]) {
      expect(inPlace.has(tick(v)), String(v)).toBe(true);
      expect(appended.has(tick(v)), String(v)).toBe(true);
    }
    // Not the value it had, not beyond the steps or the width.
    for (const v of [17, 17 - ARITH_MAX - 1, 101, 200]) expect(inPlace.has(tick(v)), String(v)).toBe(false);
  });

  it('leaves the bytes of encoded data alone (the nesting mutation deepens them) and gives nothing for a tick that is not JSON', () => {
    const bytes = '{"input":{"in":{"type":"Object","data":{"data":[91,49,93]}}}}';
    expect([...mutator(1).stage({ template: 'wat.echo', ticks: [bytes] })]).toEqual([]);
    expect([...mutator(1).stage({ template: 'wat.echo', ticks: ['{"input":'] })]).toEqual([]);
  });

  it('extends a sequence in havoc: some children are the parent with one more tick whose number changed', () => {
    const m = mutator(3);
    const parent: FuzzInput = { template: 'wat.echo', ticks: [tick(17)] };
    const extended = Array.from({ length: 2000 }, () => m.mutate(parent, [parent])).filter((c) => c.ticks.length === 2 && c.ticks[0] === tick(17) && /^\{"input":\{"in":\{"type":"Integer","data":-?\d+\}\}\}$/.test(String(c.ticks[1])) && c.ticks[1] !== tick(17));
    expect(extended.length).toBeGreaterThan(20);
  });
});

describe('the schedule', () => {
  const trace = (...edges: number[]) => Uint32Array.from(edges, (e) => (e << 8) | 1);
  const input = (n: number): FuzzInput => ({ template: 't', ticks: [tick(n)] });

  it('gives the newest entry its own children first, twice as many when it reached a new edge', () => {
    const s = new Schedule(16, () => [][Symbol.iterator]());
    s.admit(input(1), trace(1, 2));
    s.admit(input(2), trace(1, 2)); // no new edge (a new bucket, say)
    s.admit(input(3), trace(1, 3));
    expect(s.takeFresh(1000)).toEqual({ parent: input(3), children: 2 * FRESH_ENERGY });
    expect(s.takeFresh(5)).toEqual({ parent: input(2), children: 5 });
    expect(s.takeFresh(1000)).toEqual({ parent: input(2), children: FRESH_ENERGY - 5 });
    expect(s.takeFresh(1000)).toEqual({ parent: input(1), children: 2 * FRESH_ENERGY });
    expect(s.takeFresh(1000)).toBeNull();
  });

  it('draws favoured entries (smallest for some edge) far more often than entries no edge prefers', () => {
    const s = new Schedule(16, () => [][Symbol.iterator]());
    const small = input(1);
    const large: FuzzInput = { template: 't', ticks: [tick(1), tick(123456)] };
    s.admit(large, trace(1, 2));
    s.admit(small, trace(1, 2)); // takes both edges from `large`
    s.refresh();
    const rand = prng(5);
    let smallDrawn = 0;
    for (let k = 0; k < 1000; k++) if (s.draw(rand) === small) smallDrawn++;
    expect(smallDrawn).toBeGreaterThan(800);
  });

  it('runs the stage of the smallest waiting entry first', () => {
    const s = new Schedule(16, (i) => [i, i][Symbol.iterator]());
    const big: FuzzInput = { template: 't', ticks: [tick(1), tick(2), tick(3)] };
    s.admit(big, trace(1));
    s.admit(input(7), trace(2));
    expect(s.takeStage(3)).toEqual([input(7), input(7), big]);
  });
});
