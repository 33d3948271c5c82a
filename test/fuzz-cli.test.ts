// packcheck fuzz, round two: --expect for known findings, --runs (and its
// alias --max-execs), --dict files, --merge of corpora, --html. Budgets are
// executions, never wall time.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { buildFuzzTarget } from './fuzz-targets.ts';
import { cli } from './fuzz-support.ts';
import { DictFileError, parseDictFile } from '../harness/fuzz/dictionary.ts';
import { FuzzLane } from '../harness/fuzz/lane.ts';
import { measure, readCorpusFiles, type CorpusFile } from '../harness/fuzz/merge.ts';
import type { InstrumentedPack } from '../harness/fuzz/fuzz-worker.ts';

const CHROMIUM = '/usr/bin/chromium';

interface Finding {
  id: string;
  artifact: string;
  replay: string;
  expected?: true;
  expectation?: string;
}
interface Fuzz1 {
  options: { dictFile: string | null; jobs: number };
  stats: { execs: number; corpus: number; edges: { covered: number; total: number } };
  coverage: { execs: number; edges: number }[];
  findings: Finding[];
  exitCode: number;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'pc-fuzz2-'));

async function fuzz(pack: string, dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; report: Fuzz1 }> {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'fuzz.json');
  const r = await cli('fuzz', pack, '--seed', '1', '--artifacts', join(dir, 'artifacts'), '--json', json, '--timeout-ms', '500', ...args);
  return { ...r, report: JSON.parse(readFileSync(json, 'utf8')) as Fuzz1 };
}

describe('--expect: known findings by id and artifact hash', () => {
  it('a finding an entry covers is marked expected and exits 0; an entry for another hash or id does not cover it; --html shows the coverage chart and the findings with replay lines', async () => {
    const pack = await buildFuzzTarget('stateful');
    const dir = tmp();
    const first = await fuzz(pack, dir, '--runs', '10000');
    expect(first.code).toBe(1);
    const hit = first.report.findings.find((f) => f.id === 'wasm.alloc.integrity')!;
    expect(hit).toBeDefined();
    const hash = basename(hit.artifact, '.json');
    const expectFile = (entries: object[]) => {
      const f = join(dir, `expect-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(f, JSON.stringify({ schema: 'packcheck/expect@1', expect: entries }));
      return f;
    };
    const covering = expectFile(first.report.findings.map((f) => ({ pack: '**/fuzz-stateful-*.wasm', id: f.id, status: 'failed', finding: basename(f.artifact, '.json'), reason: 'issue #10: the planted stateful defect' })));
    const html = join(dir, 'fuzz.html');
    const known = await fuzz(pack, dir, '--runs', '10000', '--expect', covering, '--html', html);
    expect(known.code).toBe(0);
    expect(known.report.exitCode).toBe(0);
    expect(known.report.findings.length).toBe(first.report.findings.length);
    for (const f of known.report.findings) expect(f).toMatchObject({ expected: true, expectation: 'issue #10: the planted stateful defect' });
    expect(known.stdout).toContain('xfail');

    // Same id, another hash; same hash, another id: neither covers it.
    const wrongHash = expectFile([{ pack: '**/*.wasm', id: 'wasm.alloc.integrity', status: 'failed', finding: '0123456789abcdef', reason: 'another input' }]);
    const wrongId = expectFile([{ pack: '**/*.wasm', id: 'wasm.run.output-json', status: 'failed', finding: hash, reason: 'another id' }]);
    for (const f of [wrongHash, wrongId]) {
      const r = await fuzz(pack, dir, '--runs', '10000', '--expect', f);
      expect(r.code).toBe(1);
      expect(r.report.findings.find((x) => x.id === 'wasm.alloc.integrity')!.expected).toBeUndefined();
    }
    // A malformed expectations file: exit 2, one line.
    const bad = expectFile([{ pack: '*.wasm', id: 'wasm.alloc.integrity', status: 'failed', finding: hash }]);
    const refused = await cli('fuzz', pack, '--runs', '10', '--expect', bad);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('reason');

    // The HTML page of the covered campaign, rendered offline.
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/(src|href)=["']?https?:/);
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${html}`);
      expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
      const line = page.locator('svg.coverage polyline');
      expect(Number(await line.getAttribute('data-points'))).toBe(known.report.coverage.length);
      const pts = ((await line.getAttribute('points')) ?? '').trim().split(/\s+/);
      expect(pts).toHaveLength(known.report.coverage.length);
      expect(await page.locator('tr.finding').count()).toBe(known.report.findings.length);
      expect(await page.locator('pre.replay').first().textContent()).toBe(known.report.findings[0]!.replay);
      expect(await page.locator('.summary').getAttribute('data-exit-code')).toBe('0');
    } finally {
      await browser.close();
    }
  }, 180_000);
});

describe('--runs and --dict', () => {
  it('--runs N and its alias --max-execs stop after exactly N executions; both at once is exit 2', async () => {
    const pack = await buildWat(WAT_REFERENCE, 'wat-reference');
    const a = await fuzz(pack, tmp(), '--runs', '700');
    const b = await fuzz(pack, tmp(), '--max-execs', '700');
    expect([a.report.stats.execs, b.report.stats.execs]).toEqual([700, 700]);
    const both = await cli('fuzz', pack, '--runs', '5', '--max-execs', '5');
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
  }, 90_000);

  it('reads AFL/libFuzzer dictionaries: names, levels, escapes, comments', () => {
    const d = parseDictFile(['# a comment', '', 'port="zebra9"', 'kw@2="a\\"b\\\\c"', '"\\x41\\x42"', '  num="464371934"  ', '"\\xff\\xfe"', '"é€"'].join('\n'), 'x.dict');
    expect(d.strings).toEqual(['zebra9', 'a"b\\c', 'AB', '464371934', '\u00ff\u00fe', 'é€']);
    expect(d.ints).toEqual([464371934n]);
  });

  it.each([
    ['zebra9', 'line 1: expected name="value"'],
    ['"ok"\nname="unterminated', 'line 2: expected name="value"'],
    ['"a"b"', 'line 1: an unescaped quote'],
    ['"\\q"', 'line 1: unknown escape \\q'],
    ['"\\x4"', 'line 1: unknown escape \\x'],
    ['""', 'line 1: an empty token'],
  ])('a malformed dictionary %j is refused naming its line', (text, why) => {
    expect(() => parseDictFile(text, 'x.dict')).toThrow(DictFileError);
    expect(() => parseDictFile(text, 'x.dict')).toThrow(`x.dict ${why}`);
  });

  it('--dict FILE: a malformed file is exit 2 with one line naming the line; a good one is merged and used (--no-dict off: the magic target found only through the file)', async () => {
    const pack = await buildFuzzTarget('magic');
    const dir = tmp();
    const bad = join(dir, 'bad.dict');
    writeFileSync(bad, '"ok"\n\nnot a token\n');
    const refused = await cli('fuzz', pack, '--runs', '10', '--dict', bad);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`${bad} line 3`);
    const good = join(dir, 'magic.dict');
    writeFileSync(good, '# the port and the number the target switches on\nport="zebra9"\n"464371934"\n');
    const [withFile, without] = await Promise.all([fuzz(pack, join(dir, 'a'), '--runs', '8000', '--no-dict', '--dict', good), fuzz(pack, join(dir, 'b'), '--runs', '8000', '--no-dict')]);
    expect(withFile.report.options.dictFile).toBe(good);
    expect(withFile.report.findings.map((f) => f.id)).toContain('wasm.run.valid-payload');
    expect(without.report.findings).toEqual([]);
  }, 120_000);
});

describe('--merge OUT_DIR IN_DIR…', () => {
  it('keeps the union of two corpora\'s coverage, drops inputs that add nothing (a duplicate), and each kept input adds a feature to those before it', async () => {
    const pack = await buildWat(WAT_REFERENCE, 'wat-reference');
    const dir = tmp();
    const [a, b, out] = ['a', 'b', 'out'].map((x) => join(dir, x)) as [string, string, string];
    await Promise.all([fuzz(pack, join(dir, 'ra'), '--runs', '1500', '--corpus', a), cli('fuzz', pack, '--runs', '1500', '--seed', '2', '--corpus', b, '-q', '--artifacts', join(dir, 'rb'))]);
    // A duplicate of one of a's inputs in b, under another name.
    const dup = readdirSync(a)[0]!;
    copyFileSync(join(a, dup), join(b, `zz-duplicate-${dup}`));
    const merged = await cli('fuzz', pack, '--merge', out, a, b);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/kept \d+ new/);

    const files = (d: string) => readCorpusFiles(d) as CorpusFile[];
    let lane: FuzzLane | null = null;
    let instrumented: InstrumentedPack | null = null;
    const open = async () => {
      if (!lane || lane.dead) {
        lane = await FuzzLane.open({ bytes: readFileSync(pack), timeoutMs: 2000, profile: 'sdk', plain: false, cmplog: false, instrumented });
        instrumented ??= lane.instrumented;
      }
      return lane;
    };
    const featureSet = async (fs: CorpusFile[]) => new Set((await measure(open, fs.map((f) => f.input))).flat());
    try {
      const [fa, fb, fo] = [files(a), files(b), files(out)];
      const [sa, sb, so] = [await featureSet(fa), await featureSet(fb), await featureSet(fo)];
      const union = new Set([...sa, ...sb]);
      expect(union.size).toBeGreaterThan(Math.max(sa.size, sb.size)); // the two corpora differ: the merge has something to join
      expect([...so].sort()).toEqual([...union].sort());
      expect(fo.length).toBeLessThan(fa.length + fb.length);
      // No input in the output twice (the duplicate was dropped).
      expect(new Set(fo.map((f) => JSON.stringify(f.input))).size).toBe(fo.length);
      // Greedy minimality in libFuzzer's order: each kept input adds a feature to those before it.
      const ordered = [...fo].sort((x, y) => x.size - y.size || (x.name < y.name ? -1 : 1));
      const each = await measure(open, ordered.map((f) => f.input));
      const seen = new Set<number>();
      for (const fs of each) {
        expect(fs.some((f) => !seen.has(f))).toBe(true);
        for (const f of fs) seen.add(f);
      }
    } finally {
      await (lane as FuzzLane | null)?.close();
    }
    // Merging again adds nothing.
    const again = await cli('fuzz', pack, '--merge', out, a, b);
    expect(again.stdout).toContain('kept 0 new');
    // Bad arguments: exit 2, one line.
    for (const args of [['fuzz', pack, '--merge', out], ['fuzz', pack, '--merge', out, join(dir, 'missing')]]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(out)).toBe(true);
  }, 180_000);
});


describe('--jobs 2 --corpus DIR', () => {
  it('a second campaign with two lanes starts from the corpus the first saved: its seed phase covers what the first campaign reached, and it runs exactly its budget', async () => {
    const pack = await buildWat(WAT_REFERENCE, 'wat-reference');
    const dir = tmp();
    const corpus = join(dir, 'corpus');
    const first = await fuzz(pack, join(dir, 'one'), '--runs', '1500', '--corpus', corpus);
    const saved = readdirSync(corpus).filter((n) => n.endsWith('.json'));
    expect(saved.length).toBe(first.report.stats.corpus);
    expect(saved.length).toBeGreaterThan(10);
    const cold = await fuzz(pack, join(dir, 'cold'), '--runs', '800', '--jobs', '2');
    const warm = await fuzz(pack, join(dir, 'warm'), '--runs', '800', '--jobs', '2', '--corpus', corpus);
    expect(warm.report.options.jobs).toBe(2);
    expect(warm.report.stats.execs).toBe(800);
    const reached = first.report.stats.edges.covered;
    // The saved inputs ran first: the first coverage point already has (nearly: state drift aside) all the first campaign reached,
    // more than a campaign without the corpus has at the same point.
    expect(warm.report.coverage[0]!.edges).toBeGreaterThanOrEqual(Math.floor(reached * 0.97));
    expect(warm.report.coverage[0]!.edges).toBeGreaterThan(cold.report.coverage[0]!.edges);
    expect(warm.report.coverage[0]!.execs).toBeGreaterThanOrEqual(saved.length);
  }, 120_000);
});
