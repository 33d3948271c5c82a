// Regression runs: expectations files (--expect), baselines (--baseline) and
// --write-expect, on the WAT reference pack and a WAT mutant that fails
// exactly wasm.alloc.zero; unit tests of validation and matching.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMutant, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';
import { ExpectationSet, ExpectError, idCovers, matchFinding, mergeSections, parseExpectations, PLACEHOLDER_REASON, type Expectation, type ExpectEntry } from '../harness/run/expect.ts';
import type { PropertyResult } from '../harness/report/model.ts';
import { packcheckIn as packcheck } from './support/run-cli.ts';

// Few properties and runs: the mutant fails wasm.alloc.zero, the reference nothing.
const FAST = ['--seed', '11', '--runs', '5', '--only', 'wasm.alloc.zero,wasm.free.noop,abi.version.stable'];
const entry = (e: Partial<ExpectEntry>): ExpectEntry => ({ pack: 'packs/zero.wasm', id: 'wasm.alloc.zero', status: 'failed', reason: 'alloc(0) answers a block: issue #7', ...e });
const expectFile = (dir: string, name: string, entries: object[]) => {
  writeFileSync(join(dir, name), JSON.stringify({ schema: 'packcheck/expect@1', expect: entries }));
  return name;
};
const readJson = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));

let dir: string;
let zeroSha: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'packcheck-expect-'));
  mkdirSync(join(dir, 'packs'));
  copyFileSync(await buildWat(WAT_REFERENCE, 'wat-reference'), join(dir, 'packs', 'ref.wasm'));
  copyFileSync((await buildMutant(MUTANTS.find((m) => m.name === 'wat-alloc-zero-block')!, null))!, join(dir, 'packs', 'zero.wasm'));
  copyFileSync((await buildMutant(MUTANTS.find((m) => m.name === 'wat-free-zero-traps')!, null))!, join(dir, 'free-zero.wasm'));
  const r = await packcheck(dir, 'packs/zero.wasm', ...FAST, '-q', '--json', 'zero-plain.json');
  expect(r.code).toBe(1);
  zeroSha = readJson(dir, 'zero-plain.json').pack.sha256;
});

describe('--expect on one pack', () => {
  it('a covered failure is xfail: exit 0, expected: true with the reason, a JUnit <skipped>', async () => {
    const f = expectFile(dir, 'one.json', [entry({})]);
    const r = await packcheck(dir, 'packs/zero.wasm', ...FAST, '--expect', f, '--json', 'one-r.json', '--junit', 'one-r.xml', '--html', 'one-r.html');
    expect(r.code).toBe(0);
    // The HTML header counts the expected failure apart, not as failed.
    const html = readFileSync(join(dir, 'one-r.html'), 'utf8');
    expect(html).toMatch(/class="total-failed"><span class="badge failed">[^<]*<\/span> <b>0<\/b> failed/);
    expect(html).toMatch(/class="total-xfail"><span class="badge skipped">xfail<\/span> <b>1<\/b> expected failures/);
    expect(r.stdout).toMatch(/xfail wasm\.alloc\.zero .* expected: alloc\(0\) answers a block: issue #7/);
    const rep = readJson(dir, 'one-r.json');
    expect(rep.exitCode).toBe(0);
    expect(rep.summary).toMatchObject({ failed: 0, errored: 0, xfail: 1, unexpectedPass: 0 });
    const zero = rep.results.find((x: PropertyResult) => x.id === 'wasm.alloc.zero');
    expect(zero).toMatchObject({ status: 'failed', expected: true, expectation: 'alloc(0) answers a block: issue #7' });
    expect(rep.results.filter((x: PropertyResult) => x.expected).map((x: PropertyResult) => x.id)).toEqual(['wasm.alloc.zero']);
    expect(rep.expectations.entries[0]).toMatchObject({ matched: 1, satisfied: 1, verdict: 'held' });
    const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(dir, 'one-r.xml'), 'utf8'));
    expect(doc.testsuites['@_failures']).toBe('0');
    const cases = [doc.testsuites.testsuite].flat().flatMap((s: { testcase: unknown }) => [s.testcase].flat()) as Record<string, unknown>[];
    const skipped = cases.filter((c) => c.skipped !== undefined);
    expect(skipped.map((c) => c['@_name'])).toEqual(['wasm.alloc.zero']);
    expect((skipped[0]!.skipped as Record<string, string>)['@_message']).toBe('expected failure: alloc(0) answers a block: issue #7');
  });

  it('matches by sha256 and by an id prefix; without an entry the failure fails the run', async () => {
    const f = expectFile(dir, 'sha.json', [entry({ pack: zeroSha, id: 'wasm.alloc.*' })]);
    const r = await packcheck(dir, 'packs/zero.wasm', ...FAST, '--expect', f, '--json', 'sha-r.json');
    expect(r.code).toBe(0);
    expect(readJson(dir, 'sha-r.json').summary.xfail).toBe(1);
    const other = expectFile(dir, 'other.json', [entry({ pack: 'packs/z*.wasm', id: 'wasm.free' })]);
    const r2 = await packcheck(dir, 'packs/zero.wasm', ...FAST, '--expect', other, '--json', 'other-r.json');
    expect(r2.code).toBe(1);
    const rep = readJson(dir, 'other-r.json');
    expect(rep.summary).toMatchObject({ failed: 1, xfail: 0, unexpectedPass: 1 });
    expect(r2.stdout).toMatch(/UNEXPECTED PASS {2}other\.json entry 0 \(pack "packs\/z\*\.wasm", id "wasm\.free", status failed\) matched 1 result\(s\), none failed: remove this entry from other\.json/);
  });

  it('a stale entry (its pack now passes) is an unexpected pass: exit 1, a JUnit failure naming the entry', async () => {
    const f = expectFile(dir, 'stale.json', [entry({ pack: 'packs/ref.wasm' })]);
    const r = await packcheck(dir, 'packs/ref.wasm', ...FAST, '--expect', f, '--json', 'stale-r.json', '--junit', 'stale-r.xml');
    expect(r.code).toBe(1);
    const rep = readJson(dir, 'stale-r.json');
    expect(rep.summary).toMatchObject({ failed: 0, xfail: 0, unexpectedPass: 1 });
    expect(rep.exitCode).toBe(1);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(dir, 'stale-r.xml'), 'utf8'));
    const suite = [doc.testsuites.testsuite].flat().find((s: Record<string, string>) => s['@_name'] === 'packcheck expectations');
    expect(suite['@_failures']).toBe('1');
    expect(suite.testcase.failure['@_message']).toMatch(/^unexpected pass: stale\.json entry 0 .*remove this entry from stale\.json$/);
  });

  it('--write-expect writes the failures with a placeholder reason that --expect refuses (exit 2, one line)', async () => {
    const r = await packcheck(dir, 'packs/zero.wasm', ...FAST, '-q', '--write-expect', 'written.json');
    expect(r.code).toBe(1);
    const written = readJson(dir, 'written.json');
    expect(written).toEqual({ schema: 'packcheck/expect@1', expect: [{ pack: 'packs/zero.wasm', id: 'wasm.alloc.zero', status: 'failed', reason: PLACEHOLDER_REASON }] });
    const again = await packcheck(dir, 'packs/zero.wasm', ...FAST, '--expect', 'written.json');
    expect(again.code).toBe(2);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/^packcheck: written\.json: entry 0 \(pack "packs\/zero\.wasm", id "wasm\.alloc\.zero"\): the reason is still the placeholder/);
  });
});

describe('--expect over a corpus, and merge deciding staleness across shards', () => {
  const entries = [entry({}), entry({ pack: 'packs/ref.wasm', id: 'wasm.free.noop', reason: 'was stale once' })];

  it('an unsharded corpus: one xfail, one unexpected pass, exit 1', async () => {
    const f = expectFile(dir, 'corpus.json', entries);
    const r = await packcheck(dir, 'packs', ...FAST, '--expect', f, '--json', 'corpus-r.json');
    expect(r.code).toBe(1);
    // The matrix marks a family whose only failures are expected with x, not ✓ nor ✗.
    expect(r.stdout).toMatch(/^packs\/zero\.wasm\s.*\bx\b/m);
    expect(r.stdout).not.toMatch(/^packs\/zero\.wasm\s.*✗/m);
    const rep = readJson(dir, 'corpus-r.json');
    expect(rep.summary).toMatchObject({ packs: 2, failed: 0, xfail: 1, unexpectedPass: 1 });
    expect(rep.expectations.entries.map((u: { verdict: string }) => u.verdict)).toEqual(['held', 'stale']);
  });

  it('shards leave staleness pending (exit 0 each); merge decides it (exit 1), and passes when every entry held', async () => {
    const f = expectFile(dir, 'corpus.json', entries);
    for (const k of [1, 2]) {
      const r = await packcheck(dir, 'packs', ...FAST, '-q', '--expect', f, '--shard', `${k}/2`, '--json', `shard${k}.json`);
      expect(r.code).toBe(0);
      const shard = readJson(dir, `shard${k}.json`);
      expect(shard.expectations.pending).toBe(true);
      expect(shard.summary.unexpectedPass).toBeUndefined();
    }
    const m = await packcheck(dir, 'merge', 'shard1.json', 'shard2.json', '--json', 'merged.json');
    expect(m.code).toBe(1);
    expect(m.stdout).toMatch(/UNEXPECTED PASS {2}corpus\.json entry 1 \(pack "packs\/ref\.wasm", id "wasm\.free\.noop"/);
    const merged = readJson(dir, 'merged.json');
    expect(merged.summary).toMatchObject({ packs: 2, failed: 0, xfail: 1, unexpectedPass: 1 });
    expect(merged.expectations.entries.map((u: { verdict: string }) => u.verdict)).toEqual(['held', 'stale']);

    const held = expectFile(dir, 'held.json', [entries[0]!]);
    for (const k of [1, 2]) expect((await packcheck(dir, 'packs', ...FAST, '-q', '--expect', held, '--shard', `${k}/2`, '--json', `held${k}.json`)).code).toBe(0);
    const m2 = await packcheck(dir, 'merge', 'held1.json', 'held2.json', '--json', 'merged2.json');
    expect(m2.code).toBe(0);
    expect(readJson(dir, 'merged2.json').summary).toMatchObject({ xfail: 1, unexpectedPass: 0 });
  });

  it('merge refuses shards run with different expectations (exit 2)', async () => {
    const m = await packcheck(dir, 'merge', 'shard1.json', 'held2.json', '--json', 'bad-merge.json');
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/different --expect\/--baseline entries/);
  });
});

describe('--baseline', () => {
  it('takes the baseline seed; what failed there is expected; only a new failure fails the run', async () => {
    // The baseline: packs/zero.wasm failing wasm.alloc.zero, seed 11.
    const same = await packcheck(dir, 'packs/zero.wasm', '--runs', '5', '--only', 'wasm.alloc.zero,wasm.free.noop,abi.version.stable', '-q', '--baseline', 'zero-plain.json', '--json', 'bl-same.json');
    expect(same.code).toBe(0);
    const rep = readJson(dir, 'bl-same.json');
    expect(rep.options.seed).toBe(11);
    expect(rep.summary).toMatchObject({ failed: 0, xfail: 1 });

    // The same path now holds a build failing wasm.free.noop (and no longer wasm.alloc.zero).
    const d2 = mkdtempSync(join(tmpdir(), 'packcheck-baseline-'));
    mkdirSync(join(d2, 'packs'));
    copyFileSync(join(dir, 'free-zero.wasm'), join(d2, 'packs', 'zero.wasm'));
    const changed = await packcheck(d2, 'packs/zero.wasm', '--runs', '5', '--only', 'wasm.alloc.zero,wasm.free.noop,abi.version.stable', '--baseline', join(dir, 'zero-plain.json'), '--json', 'bl-new.json');
    expect(changed.code).toBe(1);
    const rep2 = readJson(d2, 'bl-new.json');
    expect(rep2.summary).toMatchObject({ failed: 1, xfail: 0, unexpectedPass: 0 });
    expect(rep2.results.filter((x: PropertyResult) => x.status === 'failed').map((x: PropertyResult) => x.id)).toEqual(['wasm.free.noop']);
    // The baseline failure that passes now is fixed, not an unexpected pass.
    expect(changed.stdout).toMatch(/fixed since the baseline: packs\/zero\.wasm wasm\.alloc\.zero/);
  });

  it('a renamed pack is matched by sha256', async () => {
    copyFileSync(join(dir, 'packs', 'zero.wasm'), join(dir, 'renamed.wasm'));
    const r = await packcheck(dir, 'renamed.wasm', '--runs', '5', '--only', 'wasm.alloc.zero', '-q', '--baseline', 'zero-plain.json', '--json', 'bl-renamed.json');
    expect(r.code).toBe(0);
    expect(readJson(dir, 'bl-renamed.json').summary.xfail).toBe(1);
  });

  it('an unreadable or wrong-schema baseline is exit 2 with one line', async () => {
    for (const [file, msg] of [['nope.json', /cannot read nope\.json/], ['one.json', /schema "packcheck\/expect@1", not packcheck\/report@1/]] as const) {
      const r = await packcheck(dir, 'packs/zero.wasm', ...FAST, '--baseline', file);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('expect@1 validation', () => {
  const doc = (entries: object[], schema = 'packcheck/expect@1') => JSON.stringify({ schema, expect: entries });
  it.each([
    ['a wrong schema', doc([], 'packcheck/expect@2'), /schema "packcheck\/expect@2" is not "packcheck\/expect@1"/],
    ['not JSON', '{', /not JSON/],
    ['no reason', doc([{ pack: 'a.wasm', id: 'wasm.run', status: 'failed' }]), /entry 0 \(pack "a\.wasm", id "wasm\.run"\): no "reason"/],
    ['a blank reason', doc([entry({}), { ...entry({}), reason: '  ' }]), /entry 1 \(pack "packs\/zero\.wasm", id "wasm\.alloc\.zero"\): no "reason"/],
    ['the placeholder reason', doc([entry({ reason: PLACEHOLDER_REASON })]), /entry 0 .*: the reason is still the placeholder/],
    ['an unknown member', doc([{ ...entry({}), why: 'x' }]), /entry 0 .*: unknown member "why"/],
    ['an unknown id', doc([entry({ id: 'wasm.nope' })]), /entry 0 .*: unknown property id or prefix "wasm\.nope"/],
    ['a bad status', doc([entry({ status: 'passed' as 'failed' })]), /entry 0 .*: "status" must be "failed" or "skipped"/],
    ['no pack', doc([{ id: 'wasm.run', status: 'failed', reason: 'r' }]), /entry 0 \(id "wasm\.run"\): "pack" must be a non-empty string/],
    ['a skipped finding', doc([entry({ status: 'skipped', finding: 'ab12' })]), /a fuzz finding is expected with status "failed"/],
  ])('refuses %s, naming the entry', (_what, text, message) => {
    expect(() => parseExpectations(text, 'x.json')).toThrow(ExpectError);
    expect(() => parseExpectations(text, 'x.json')).toThrow(message);
  });

  it('accepts a full entry as written', () => {
    const e = entry({ target: 'wasm32-unknown-unknown', id: 'wasm.run' });
    expect(parseExpectations(doc([e]), 'x.json')).toEqual([e]);
  });
});

describe('matching', () => {
  const result = (id: string, status: PropertyResult['status'], target?: string | null): PropertyResult => ({ id, status, runs: 1, durationMs: 0, seed: 1, ...(target !== undefined ? { target } : {}) });
  const set = (entries: ExpectEntry[]) => new ExpectationSet(entries.map((entry, index): Expectation => ({ source: 'expect', file: 'e.json', index, entry })), ['e.json'], new Set(), '/work/x');

  it('ids: exact, prefix and prefix.*, never a mere string prefix', () => {
    expect(idCovers('wasm.run', 'wasm.run.valid-payload')).toBe(true);
    expect(idCovers('wasm.run.*', 'wasm.run.valid-payload')).toBe(true);
    expect(idCovers('wasm.run.valid-payload', 'wasm.run.valid-payload')).toBe(true);
    expect(idCovers('wasm.ru', 'wasm.run.valid-payload')).toBe(false);
    expect(idCovers('wasm.run', 'wasm.runner')).toBe(false);
  });

  it('bundle targets: an entry with a target covers that target only; one without, every target', () => {
    const s = set([entry({ pack: 'b.rflpack', id: 'wasm.alloc.zero', target: 'wasm32-unknown-unknown' }), entry({ pack: 'b.rflpack', id: 'vtable.drop.frees' })]);
    const out = s.cover({ path: '/work/x/b.rflpack', sha256: 'ff' }, [result('wasm.alloc.zero', 'failed', 'wasm32-unknown-unknown'), result('wasm.alloc.zero', 'failed', 'x86_64-unknown-linux-gnu'), result('vtable.drop.frees', 'failed', 'x86_64-unknown-linux-gnu'), result('bundle.paths.safe', 'failed', null)]);
    expect(out.map((r) => r.expected ?? false)).toEqual([true, false, true, false]);
    expect(s.section(false).entries.map((u) => [u.matched, u.satisfied, u.verdict])).toEqual([[1, 1, 'held'], [1, 1, 'held']]);
  });

  it('a skipped entry holds when its result is skipped, marks nothing expected, and is stale when the result passes', () => {
    const s = set([entry({ pack: 'a.so', id: 'vtable.register.reclaim', status: 'skipped' })]);
    const out = s.cover({ path: 'a.so', sha256: '' }, [result('vtable.register.reclaim', 'skipped')]);
    expect(out[0]!.expected).toBeUndefined();
    expect(s.section(false).entries[0]!.verdict).toBe('held');
    const t = set([entry({ pack: 'a.so', id: 'vtable.register.reclaim', status: 'skipped' })]);
    t.cover({ path: 'a.so', sha256: '' }, [result('vtable.register.reclaim', 'passed')]);
    expect(t.section(false).entries[0]!.verdict).toBe('stale');
  });

  it('an entry that matches no result of the run is unused, not stale', () => {
    const s = set([entry({ pack: 'other/*.wasm' })]);
    s.cover({ path: 'packs/zero.wasm', sha256: '' }, [result('wasm.alloc.zero', 'passed')]);
    expect(s.section(false).entries[0]!.verdict).toBe('unused');
  });

  it('fuzz findings: matched by pack, id and artifact hash; property results are never covered by a finding entry', () => {
    const s = set([entry({ pack: 'packs/*.wasm', id: 'wasm.run.valid-payload', finding: 'AB12cd' })]);
    const subject = { path: 'packs/zero.wasm', sha256: '' };
    expect(matchFinding(s, subject, 'wasm.run.valid-payload', 'ab12cd')?.reason).toBe('alloc(0) answers a block: issue #7');
    expect(matchFinding(s, subject, 'wasm.run.valid-payload', 'ffff')).toBeNull();
    expect(matchFinding(s, subject, 'wasm.alloc.integrity', 'ab12cd')).toBeNull();
    expect(matchFinding(s, { path: 'elsewhere/zero.wasm', sha256: '' }, 'wasm.run.valid-payload', 'ab12cd')).toBeNull();
    expect(s.cover(subject, [result('wasm.run.valid-payload', 'failed')])[0]!.expected).toBeUndefined();
  });

  it('merging shard sections sums each entry’s use before deciding', () => {
    const a = set([entry({ pack: 'packs/*.wasm' })]);
    a.cover({ path: 'packs/ref.wasm', sha256: '' }, [result('wasm.alloc.zero', 'passed')]);
    const b = set([entry({ pack: 'packs/*.wasm' })]);
    b.cover({ path: 'packs/zero.wasm', sha256: '' }, [result('wasm.alloc.zero', 'failed')]);
    expect(a.section(false).entries[0]!.verdict).toBe('stale');
    const merged = mergeSections([a.section(true), b.section(true)]);
    expect(merged.entries[0]).toMatchObject({ matched: 2, satisfied: 1, verdict: 'held' });
  });
});

describe('--expect on packcheck host', () => {
  it('entries match the adapter path: its failures are xfail, a passing id named is an unexpected pass', async () => {
    const root = join(import.meta.dirname, '..');
    const f = join(dir, 'host.json');
    writeFileSync(f, JSON.stringify({ schema: 'packcheck/expect@1', expect: [entry({ pack: 'mocks/host-adapters/example-loader.ts', id: 'host', reason: 'upstream loader defects (ABI.md)' }), entry({ pack: 'mocks/host-adapters/*.ts', id: 'host.register.duplicate', reason: 'no longer true' })] }));
    const out = join(dir, 'host-r.json');
    const r = await packcheck(root, 'host', 'mocks/host-adapters/example-loader.ts', '--seed', '1', '--runs', '5', '--expect', f, '--json', out);
    expect(r.code).toBe(1);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    const expected = rep.results.filter((x: PropertyResult) => x.expected).map((x: PropertyResult) => x.id);
    expect(expected).toContain('host.output.freed');
    expect(rep.summary).toMatchObject({ failed: 0, errored: 0, xfail: expected.length, unexpectedPass: 1 });
    expect(rep.host.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout).toMatch(/UNEXPECTED PASS {2}.*host\.json entry 1 \(pack "mocks\/host-adapters\/\*\.ts", id "host\.register\.duplicate", status failed\)/);
  });
});
