// packcheck fuzz: instrumentation keeps behaviour, campaigns find the
// planted deep defects (packs-under-test/wat/fuzz-*.wat) within a bounded
// number of executions with the right catalog id, the plain battery does
// not, the reference pack yields nothing, the dictionary and CmpLog each
// matter, artifacts replay, hangs are findings and the campaign goes on.
// Budgets are executions (--runs), never wall time.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { buildFuzzTarget } from './fuzz-targets.ts';
import { BIN, cli, expectReplays } from './fuzz-support.ts';
import { FuzzLane } from '../harness/fuzz/lane.ts';
import { payloadOf, type FuzzInput } from '../harness/fuzz/input.ts';
import { prng, Mutator } from '../harness/fuzz/mutate.ts';
import { TokenBag } from '../harness/fuzz/dictionary.ts';
import { bucket } from '../harness/fuzz/coverage.ts';


interface Fuzz1 {
  schema: string;
  options: { seed: number; jobs: number };
  stats: { execs: number; execsPerSec: number; edges: { covered: number; total: number }; corpus: number; durationMs: number };
  coverage: { ms: number; execs: number; edges: number }[];
  findings: { id: string; message: string; artifact: string; input: FuzzInput; replay: string; foundAtExec: number }[];
  exitCode: number;
}

async function fuzz(pack: string, execs: number, ...extra: string[]): Promise<{ code: number; report: Fuzz1; stdout: string; artifacts: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pc-fuzz-'));
  const json = join(dir, 'fuzz.json');
  const artifacts = join(dir, 'artifacts');
  const r = await cli('fuzz', pack, '--runs', String(execs), '--seed', '1', '--artifacts', artifacts, '--json', json, '--timeout-ms', '500', ...extra);
  return { code: r.code, report: JSON.parse(readFileSync(json, 'utf8')) as Fuzz1, stdout: r.stdout, artifacts };
}

describe('instrumentation', () => {
  it('changes no answer of the reference pack: same statuses and results, uninstrumented, edge build and CmpLog build, on 300 mutated inputs', async () => {
    const path = await buildWat(WAT_REFERENCE, 'wat-reference');
    const bytes = readFileSync(path);
    const rand = prng(7);
    const strings = new TokenBag<string>(64);
    strings.add('in');
    const m = new Mutator(rand, { templates: [{ name: 'wat.echo', factoryId: 0, inports: ['in'], outports: [] }], messages: ['{"type":"Integer","data":3}', '{"type":"String","data":"x"}'], strings, ints: new TokenBag(8), cmpStrings: new TokenBag(8), cmpInts: new TokenBag(8) });
    const inputs: FuzzInput[] = [{ template: 'wat.echo', ticks: ['{"input":{"in":{"type":"Flow"}}}'] }];
    while (inputs.length < 300) inputs.push(m.mutate(inputs[Math.floor(rand() * inputs.length)]!, inputs));
    // Byte mutations too: invalid UTF-8 and invalid JSON reach the pack's rejection paths.
    inputs.push({ template: 'wat.echo', ticks: [payloadOf(Uint8Array.from([0x7b, 0xc0, 0xaf]))] });
    const plain = await FuzzLane.open({ bytes, timeoutMs: 2000, profile: 'sdk', plain: true, cmplog: false, instrumented: null });
    const fuzzed = await FuzzLane.open({ bytes, timeoutMs: 2000, profile: 'sdk', plain: false, cmplog: true, instrumented: null });
    const a = await plain.answers(inputs);
    const b = await fuzzed.answers(inputs, true);
    const c = await fuzzed.answers(inputs, 'cmplog');
    await Promise.all([plain.close(), fuzzed.close()]);
    expect(Array.isArray(a) && a.length).toBe(inputs.length);
    expect(b).toEqual(a);
    // The CmpLog build (comparisons recorded) answers the same too.
    expect(c).toEqual(a);
    // The answers are not all alike: the inputs did reach different paths.
    expect(new Set((a as string[]).map((x) => x.split(' ')[0])).size).toBeGreaterThan(1);
  }, 60_000);

  it('buckets hit counts as AFL does', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 127, 128, 1e6].map(bucket)).toEqual([0, 1, 2, 4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128]);
  });
});

describe('campaigns', () => {
  it('finds the CmpLog-only defect (a name assembled at run time and compared by a memcmp-like call, an XORed number) within 4000 executions, as wasm.run.valid-payload; --no-cmplog does not, with the same budget', async () => {
    const pack = await buildFuzzTarget('cmplog');
    const on = await fuzz(pack, 4000);
    expect(on.code).toBe(1);
    const hit = on.report.findings.find((f) => f.id === 'wasm.run.valid-payload');
    expect(hit, JSON.stringify(on.report.findings.map((f) => f.id))).toBeDefined();
    expect(hit!.foundAtExec).toBeLessThanOrEqual(4000);
    expect(hit!.message).toContain('memory access out of bounds');
    // Minimised: one tick, the magic port and number, nothing else.
    expect(hit!.input.ticks).toHaveLength(1);
    expect(hit!.input.ticks[0]).toMatch(/^\{"input":\{"k7Qx2Z":\{("type":"(Integer|Float)","data":1094795593|"data":1094795593,"type":"(Integer|Float)")\}\}\}$/);
    // The artifact replays in the battery's format; on the reference pack the same input passes.
    await expectReplays(pack, hit!.artifact, 'wasm.run.valid-payload', await buildWat(WAT_REFERENCE, 'wat-reference'));

    const off = await fuzz(pack, 4000, '--no-cmplog');
    expect(off.report.findings.filter((f) => f.input.ticks.some((t) => typeof t === 'string' && t.includes('k7Qx2Z')))).toEqual([]);
    expect(off.code).toBe(0);
  }, 90_000);

  it('finds the dictionary defect (a port name from a data segment compared byte by byte, and a compared constant) within 30000 executions, and its artifact replays it; --no-dict does not, with the same budget', async () => {
    const pack = await buildFuzzTarget('magic');
    const [on, off] = await Promise.all([fuzz(pack, 30000), fuzz(pack, 30000, '--no-dict')]);
    const hit = on.report.findings.find((f) => f.id === 'wasm.run.valid-payload');
    expect(hit, JSON.stringify(on.report.findings.map((f) => f.id))).toBeDefined();
    expect(hit!.foundAtExec).toBeLessThanOrEqual(30000);
    expect(hit!.message).toContain('unreachable');
    expect(hit!.input.ticks).toHaveLength(1);
    expect(hit!.input.ticks[0]).toMatch(/^\{"input":\{"zebra9":\{("type":"(Integer|Float)","data":464371934|"data":464371934,"type":"(Integer|Float)")\}\}\}$/);
    await expectReplays(pack, hit!.artifact, 'wasm.run.valid-payload', await buildWat(WAT_REFERENCE, 'wat-reference'));
    expect(off.report.findings).toEqual([]);
    expect(off.code).toBe(0);
  }, 90_000);

  it('finds the stateful defect (17, 42, 99 on one instance, then a write into the payload block) as wasm.alloc.integrity, minimised to those three ticks', async () => {
    const pack = await buildFuzzTarget('stateful');
    const r = await fuzz(pack, 10000);
    expect(r.code).toBe(1);
    const hit = r.report.findings.find((f) => f.id === 'wasm.alloc.integrity');
    expect(hit, JSON.stringify(r.report.findings.map((f) => f.id))).toBeDefined();
    expect(hit!.foundAtExec).toBeLessThanOrEqual(10000);
    expect(hit!.message).toContain('the payload block');
    expect(hit!.input.ticks.map((t) => /"data":(\d+)/.exec(String(t))?.[1])).toEqual(['17', '42', '99']);
    await expectReplays(pack, hit!.artifact, 'wasm.alloc.integrity', await buildWat(WAT_REFERENCE, 'wat-reference'));
  }, 90_000);

  it('the plain battery (--runs 100, seeds 1-3) finds none of the four defects: they need feedback', async () => {
    const packs = await Promise.all((['magic', 'cmplog', 'stateful', 'nesting'] as const).map((t) => buildFuzzTarget(t)));
    // Every property that runs payloads (the 1-16 MiB one aside: it draws no Messages).
    for (const seed of ['1', '2', '3']) {
      const runs = await Promise.all(packs.map((p) => cli(p, '--runs', '100', '--seed', seed, '-q', '--only', 'wasm.run,wasm.alloc.integrity,wasm.instance.model', '--skip', 'wasm.run.large-payload')));
      expect(runs.map((r) => r.code), `seed ${seed}`).toEqual([0, 0, 0, 0]);
    }
  }, 180_000);

  it('the nesting target traps on data bytes nested 6 deep and not 5 (its planted defect, replayed)', async () => {
    const pack = await buildFuzzTarget('nesting');
    const dir = mkdtempSync(join(tmpdir(), 'pc-nest-'));
    const bytes = (depth: number) => [...'['.repeat(depth)].map(() => 91).concat([49], Array(depth).fill(93));
    const codes: number[] = [];
    for (const depth of [5, 6]) {
      const file = join(dir, `d${depth}.json`);
      writeFileSync(file, JSON.stringify({ template: 'wat.echo', ticks: [JSON.stringify({ input: { in: { type: 'Object', data: { data: bytes(depth) } } } })] }));
      const r = await cli('replay', pack, file);
      codes.push(r.code);
      if (r.code) expect(r.stdout).toContain('FAIL  wasm.run.valid-payload');
    }
    expect(codes).toEqual([0, 1]);
  }, 60_000);

  it('a hanging input is a harness.timeout finding and the campaign goes on to its budget', async () => {
    const pack = await buildFuzzTarget('hang');
    const r = await fuzz(pack, 1500);
    expect(r.code).toBe(1);
    const hang = r.report.findings.find((f) => f.id === 'harness.timeout');
    expect(hang).toBeDefined();
    expect(hang!.message).toMatch(/^__reflow_pack_actor_run\(.*\) did not return within 500 ms/);
    expect(hang!.foundAtExec).toBeLessThan(r.report.stats.execs);
    expect(r.report.stats.execs).toBe(1500);
    expect(JSON.stringify(hang!.input)).toContain('7777');
  }, 90_000);

  it('the reference pack: no findings in a bounded campaign, and a packcheck/fuzz@1 report', async () => {
    const pack = await buildWat(WAT_REFERENCE, 'wat-reference');
    const r = await fuzz(pack, 1500);
    expect(r.code).toBe(0);
    expect(r.report.findings).toEqual([]);
    expect(r.report.schema).toBe('packcheck/fuzz@1');
    expect(Object.keys(r.report)).toEqual(expect.arrayContaining(['pack', 'options', 'stats', 'coverage', 'findings', 'exitCode']));
    expect(r.report.options).toMatchObject({ seed: 1, jobs: 1, corpus: null });
    expect(r.report.stats.execs).toBe(1500);
    expect(r.report.stats.edges.covered).toBeGreaterThan(0);
    expect(r.report.stats.edges.covered).toBeLessThanOrEqual(r.report.stats.edges.total);
    expect(r.report.coverage.at(-1)!.edges).toBe(r.report.stats.edges.covered);
    expect(r.report.coverage.map((c) => c.execs)).toEqual([...r.report.coverage.map((c) => c.execs)].sort((x, y) => x - y));
    expect(r.stdout).toContain('no findings');
    expect(existsSync(r.artifacts)).toBe(false); // no finding, no artifact written
  }, 90_000);
});

describe('packcheck fuzz and replay: exit 2', () => {
  it('a native pack, a file that is not a pack, no pack, a bad option: one line, exit 2', async () => {
    for (const args of [['fuzz', '/etc/passwd'], ['fuzz'], ['fuzz', BIN, '--max-execs', 'x'], ['fuzz', process.execPath], ['replay', BIN], ['replay', '/etc/passwd', '/etc/passwd']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await cli('fuzz', process.execPath)).stderr).toContain('native');
  }, 60_000);
});
