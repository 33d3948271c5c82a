// `packcheck compare`: a crafted pair of corpus reports classified exactly,
// failures compared on their structured parts (not addresses), the CLI's
// outputs and exit codes, and one comparison of two real runs.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { buildMutant, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';
import { compareReports } from '../harness/report/compare-model.ts';
import { readReportFile } from '../harness/run/report-file.ts';
import type { PropertyResult } from '../harness/report/model.ts';
import { packcheckIn as packcheck } from './support/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'packcheck-compare-'));
const options = { seed: 5, runs: 10, timeoutMs: 2000, profile: 'sdk' };
const res = (id: string, status: PropertyResult['status'], more: Partial<PropertyResult> = {}): PropertyResult => ({ id, status, runs: 1, durationMs: 1, seed: 5, ...more });
const runViolation = (ptr: number, expected = 'status 0 and a JSON object') => ({
  message: `__reflow_pack_actor_run(instance=1, payload_ptr=${ptr}, payload_len=12) …`,
  violation: { call: `__reflow_pack_actor_run(instance=1, payload_ptr=${ptr}, payload_len=12, out_ptr_ptr=${ptr + 16})`, got: `status -1, out_ptr ${ptr + 120}`, expected },
});
const pack = (path: string, results: PropertyResult[]) => ({ schema: 'packcheck/report@1', pack: { path, sha256: 'ab', abi: 'wasm', abiVersion: 1, templates: [], imports: [] }, results, summary: {}, exitCode: 0 });
const corpus = (reports: ReturnType<typeof pack>[]) => ({ schema: 'packcheck/corpus@1', tool: { name: 'packcheck', version: '0' }, options, shard: null, reports, summary: {}, exitCode: 0 });
const write = (name: string, doc: object) => {
  writeFileSync(join(dir, name), JSON.stringify(doc));
  return name;
};

// Every kind once, and results that must not be reported.
const BASE = corpus([
  pack('packs/a.wasm', [
    res('wasm.alloc.zero', 'passed'),
    res('wasm.free.noop', 'failed', { message: 'free(0) trapped' }),
    res('wasm.run.valid-payload', 'failed', runViolation(1114360)),
    res('wasm.run.output-json', 'failed', runViolation(1114360)),
    res('wasm.instance.create', 'passed'),
    res('wasm.instance.model', 'passed'),
    res('abi.version.expected', 'skipped', { message: 'no expected ABI version given' }),
    res('wasm.alloc.huge', 'failed', { message: 'huge' }),
  ]),
  pack('packs/gone.wasm', [res('wasm.alloc.zero', 'failed')]),
]);
const NEW = corpus([
  pack('packs/a.wasm', [
    res('wasm.alloc.zero', 'failed', { message: 'alloc(0) answered 8' }),
    res('wasm.free.noop', 'passed'),
    // The same failure at other addresses: unchanged.
    res('wasm.run.valid-payload', 'failed', runViolation(2229000)),
    // Another expectation: changed.
    res('wasm.run.output-json', 'failed', runViolation(2229000, 'a result that parses as JSON')),
    res('wasm.instance.create', 'skipped', { message: 'no tracker on this platform' }),
    res('wasm.instance.model', 'skipped', { blockedBy: 'wasm.alloc.zero', step: 'alloc', message: 'not evaluated: alloc broke' }),
    res('abi.version.expected', 'skipped', { message: 'no expected ABI version given' }),
    // Failed before, errored now: changed.
    res('wasm.alloc.huge', 'errored', { message: 'huge' }),
  ]),
  pack('packs/new.wasm', [res('wasm.alloc.zero', 'failed', { message: 'x' }), res('wasm.free.noop', 'passed'), res('wasm.instance.model', 'skipped', { blockedBy: 'wasm.alloc.zero' })]),
]);

describe('compare classifies a crafted pair of corpus reports exactly', () => {
  const cmp = compareReports(readReportFile(join(dir, write('base.json', BASE)), 'base'), readReportFile(join(dir, write('new.json', NEW)), 'new'), dir);

  it('one change per kind, nothing else', () => {
    expect(cmp.changes.map((c) => [c.kind, c.pack, c.id])).toEqual([
      ['newly-failing', 'packs/a.wasm', 'wasm.alloc.zero'],
      ['fixed', 'packs/a.wasm', 'wasm.free.noop'],
      ['still-failing-changed', 'packs/a.wasm', 'wasm.run.output-json'],
      ['newly-skipped', 'packs/a.wasm', 'wasm.instance.create'],
      ['newly-blocked', 'packs/a.wasm', 'wasm.instance.model'],
      ['still-failing-changed', 'packs/a.wasm', 'wasm.alloc.huge'],
      ['pack-removed', 'packs/gone.wasm', null],
      ['pack-added', 'packs/new.wasm', null],
      ['newly-failing', 'packs/new.wasm', 'wasm.alloc.zero'],
    ]);
    expect(cmp.summary).toEqual({ newlyFailing: 2, fixed: 1, stillFailingChanged: 2, newlySkipped: 1, newlyBlocked: 1, packAdded: 1, packRemoved: 1 });
    expect(cmp.exitCode).toBe(1);
    expect(cmp.schema).toBe('packcheck/compare@1');
  });

  it('a changed failure says which structured part changed; base and new results are attached', () => {
    const json = cmp.changes.find((c) => c.id === 'wasm.run.output-json')!;
    expect(json.detail).toBe('expected: "status 0 and a JSON object" → "a result that parses as JSON"');
    expect(json.base?.violation?.expected).toBe('status 0 and a JSON object');
    expect(json.new?.violation?.expected).toBe('a result that parses as JSON');
    expect(cmp.changes.find((c) => c.id === 'wasm.alloc.huge')!.detail).toBe('status: "failed" → "errored"');
  });

  it('report@1 on one side and corpus@1 on the other; nothing newly failing is exit 0', () => {
    const one = write('one.json', { ...pack('packs/a.wasm', NEW.reports[0]!.results), tool: { name: 'packcheck', version: '0' }, options });
    const c = compareReports(readReportFile(join(dir, one), 'base'), readReportFile(join(dir, 'new.json'), 'new'), dir);
    expect(c.changes.map((x) => [x.kind, x.pack, x.id])).toEqual([
      ['pack-added', 'packs/new.wasm', null],
      ['newly-failing', 'packs/new.wasm', 'wasm.alloc.zero'],
    ]);
    const same = compareReports(readReportFile(join(dir, one), 'base'), readReportFile(join(dir, one), 'new'), dir);
    expect(same.changes).toEqual([]);
    expect(same.exitCode).toBe(0);
  });
});

describe('packcheck compare (CLI)', () => {
  it('prints the table, writes compare@1, JUnit and an HTML section; exit 1 on a new failure', async () => {
    const r = await packcheck(dir, 'compare', 'base.json', 'new.json', '--json', 'cmp.json', '--junit', 'cmp.xml', '--html', 'cmp.html');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/newly-failing +packs\/a\.wasm +wasm\.alloc\.zero +was passed; now failed: alloc\(0\) answered 8/);
    expect(r.stdout).toMatch(/2 newly failing, 1 fixed, 2 still failing but changed, 1 newly skipped, 1 newly blocked, 1 pack\(s\) added, 1 removed/);
    const json = JSON.parse(readFileSync(join(dir, 'cmp.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(['schema', 'tool', 'base', 'new', 'changes', 'summary', 'exitCode']);
    expect(json.base).toEqual({ file: 'base.json', schema: 'packcheck/corpus@1', packs: 2, seed: 5 });
    expect(json.changes).toHaveLength(9);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(dir, 'cmp.xml'), 'utf8'));
    expect(doc.testsuites['@_tests']).toBe('9');
    expect(doc.testsuites['@_failures']).toBe('2');
    expect(doc.testsuites['@_skipped']).toBe('2');
    const failed = [doc.testsuites.testsuite.testcase].flat().filter((c: Record<string, unknown>) => c.failure !== undefined).map((c: Record<string, string>) => c['@_name']);
    expect(failed).toEqual(['packs/a.wasm wasm.alloc.zero', 'packs/new.wasm wasm.alloc.zero']);
    const html = readFileSync(join(dir, 'cmp.html'), 'utf8');
    expect(html).toMatch(/<section class="pack compare" data-exit-code="1">/);
    expect(html.match(/<tr class="change /g)).toHaveLength(9);
    expect(html).toMatch(/data-kind="pack-removed" data-pack="packs\/gone\.wasm"/);
  });

  it.each([
    [['compare', 'base.json'], /usage: packcheck compare BASE\.json NEW\.json/],
    [['compare', 'base.json', 'missing.json'], /compare NEW: cannot read missing\.json/],
    [['compare', 'notjson.txt', 'new.json'], /compare BASE: notjson\.txt is not JSON/],
    [['compare', 'expect.json', 'new.json'], /compare BASE: expect\.json has schema "packcheck\/expect@1", not packcheck\/report@1 or packcheck\/corpus@1/],
  ])('%j: exit 2 with one line', async (args, message) => {
    writeFileSync(join(dir, 'notjson.txt'), 'hello');
    writeFileSync(join(dir, 'expect.json'), JSON.stringify({ schema: 'packcheck/expect@1', expect: [] }));
    const r = await packcheck(dir, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe('compare of two real runs', () => {
  it('the reference pack, then a build failing wasm.alloc.zero at the same path: newly failing; the other way: fixed', async () => {
    const d = mkdtempSync(join(tmpdir(), 'packcheck-compare-real-'));
    mkdirSync(join(d, 'packs'));
    const ref = await buildWat(WAT_REFERENCE, 'wat-reference');
    const zero = (await buildMutant(MUTANTS.find((m) => m.name === 'wat-alloc-zero-block')!, null))!;
    const fast = ['--seed', '3', '--runs', '5', '--only', 'wasm.alloc,wasm.free.noop', '-q'];
    copyFileSync(ref, join(d, 'packs', 'p.wasm'));
    expect((await packcheck(d, 'packs/p.wasm', ...fast, '--json', 'before.json')).code).toBe(0);
    copyFileSync(zero, join(d, 'packs', 'p.wasm'));
    expect((await packcheck(d, 'packs/p.wasm', ...fast, '--json', 'after.json')).code).toBe(1);
    const fwd = await packcheck(d, 'compare', 'before.json', 'after.json', '--json', 'fwd.json');
    expect(fwd.code).toBe(1);
    expect(JSON.parse(readFileSync(join(d, 'fwd.json'), 'utf8')).changes.map((c: { kind: string; id: string }) => [c.kind, c.id])).toEqual([['newly-failing', 'wasm.alloc.zero']]);
    const back = await packcheck(d, 'compare', 'after.json', 'before.json', '--json', 'back.json');
    expect(back.code).toBe(0);
    expect(JSON.parse(readFileSync(join(d, 'back.json'), 'utf8')).changes.map((c: { kind: string; id: string }) => [c.kind, c.id])).toEqual([['fixed', 'wasm.alloc.zero']]);
    // A run compared with itself (same seed, same pack): no change.
    expect((await packcheck(d, 'compare', 'after.json', 'after.json')).stdout).toMatch(/no change/);
  });
});
