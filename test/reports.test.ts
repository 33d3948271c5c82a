// The JUnit and HTML renderers, on hand-built reports with every status, a
// bundle, a host and hostile text, and on one real report of the WAT pack.
import { describe, it, expect, beforeAll } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { toJUnit, xmlSafe } from '../harness/report/junit.ts';
import { toHtml } from '../harness/report/html.ts';
import { REPORT_SCHEMA, TOOL, summarize, exitCodeOf, type PackReport, type PropertyResult, type PackInfo } from '../harness/report/model.ts';
import { reportFixtures } from './support/report-fixtures.ts';
import type { HostReport } from '../harness/run/host-runner.ts';
import { readPack } from '../harness/run/pack-file.ts';
import { checkWasmPack } from '../harness/run/wasm-runner.ts';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';

const OPTIONS = { seed: 7, runs: 50, timeoutMs: 2000, profile: 'sdk' } as const;
const NASTY = `bytes <&>"' differ\u0001\u0008\u000b\u001f\ud800 end \uffff\ud83d\ude00`;
const MULTI = 'wasm_alloc returned 0x10 twice\n  first:  alloc(8) = 0x10\n  second: alloc(8) = 0x10\nexpected disjoint blocks';

const { res, report } = reportFixtures(OPTIONS, 'packs/a.wasm', { durationMs: 12.5, replayExtra: ' --runs 50' });

/** A wasm pack with every status, hostile and multi-line messages. */
const wasmReport = report({ path: 'packs/a.wasm' }, [
  res('wasm.shape.exports', 'passed', { runs: 1, message: 'all exports present' }),
  res('wasm.alloc.disjoint', 'failed', { message: MULTI, counterexample: { sizes: [8, 8], bytes: { hex: '00ff', length: 2 } }, path: '3:1:0' }),
  res('wasm.run.output-json', 'failed', { message: NASTY, counterexample: `payload "<&>"` }),
  res('wasm.instance.model', 'errored', { message: 'harness bug: TypeError: x is undefined\n    at model.ts:12' }),
  res('abi.version.expected', 'skipped', { message: 'no expected ABI given (--expect-abi N)' }),
  res('harness.timeout', 'failed', { runs: 1, message: 'during wasm.run.output-json: the call did not settle within 2000 ms' }),
]);

/** A bundle: archive-level results (target null) and two targets. */
const bundleReport = report(
  {
    path: 'packs/multi.reflowpack',
    abi: 'bundle',
    abiVersion: null,
    templates: [],
    imports: [],
    targets: [
      { triple: 'wasm32-unknown-unknown', file: 'pack.wasm', abi: 'wasm', abiVersion: 3 },
      { triple: 'x86_64-unknown-linux-gnu', file: 'libpack.so', abi: 'vtable', abiVersion: 3 },
    ],
  },
  [
    res('bundle.manifest.schema', 'passed', { target: null, runs: 1 }),
    res('bundle.paths.safe', 'passed', { target: null, runs: 1 }),
    res('wasm.alloc.zero', 'passed', { target: 'wasm32-unknown-unknown' }),
    res('wasm.run.valid-payload', 'failed', { target: 'wasm32-unknown-unknown', message: 'status 2 for a valid payload', counterexample: { payload: '{}' } }),
    res('vtable.register.status-ok', 'passed', { target: 'x86_64-unknown-linux-gnu' }),
    res('vtable.drop.frees', 'skipped', { target: 'x86_64-unknown-linux-gnu', message: 'no allocation tracker on this platform' }),
    res('vtable.factory.handle', 'errored', { target: 'x86_64-unknown-linux-gnu', message: 'koffi: cannot load library' }),
  ],
);

const hostReport: HostReport = (() => {
  const results = [res('host.register.once', 'passed'), res('host.alloc.paired', 'failed', { message: 'the host freed a block twice', counterexample: { ptr: 16 } })];
  results[1]!.replay = 'packcheck host adapters/mine.ts --only host.alloc.paired --seed 7 --runs 50';
  return { schema: REPORT_SCHEMA, tool: TOOL, host: { path: 'adapters/mine.ts' }, options: { ...OPTIONS }, results, summary: summarize(results, 99), exitCode: exitCodeOf(results) };
})();

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });

type Case = { '@_name': string; '@_classname': string; '@_time': string; failure?: Fault; error?: Fault; skipped?: { '@_message': string } | '' };
type Fault = { '@_message': string; '@_type': string; '#text': string };
type Suite = { '@_name': string; '@_tests': string; '@_failures': string; '@_errors': string; '@_skipped': string; '@_time': string; testcase?: Case[] };

function parse(xml: string): { root: Suite; suites: Suite[] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml) as { testsuites: Suite & { testsuite: Suite[] } };
  return { root: doc.testsuites, suites: doc.testsuites.testsuite };
}

function expectCounts(s: Suite, results: PropertyResult[]) {
  const n = (st: string) => String(results.filter((r) => r.status === st).length);
  expect(s['@_tests']).toBe(String(results.length));
  expect(s['@_failures']).toBe(n('failed'));
  expect(s['@_errors']).toBe(n('errored'));
  expect(s['@_skipped']).toBe(n('skipped'));
  expect(s.testcase?.map((c) => c['@_name']) ?? []).toEqual(results.map((r) => r.id));
}

describe('toJUnit', () => {
  const all = [wasmReport, bundleReport, hostReport];
  const xml = toJUnit(all, { name: 'packcheck corpus' });

  it('is a valid document with the XML declaration', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    parse(xml);
  });

  it('has one testsuite per pack, per bundle target and per host, with their counts', () => {
    const { root, suites } = parse(xml);
    expect(suites.map((s) => s['@_name'])).toEqual([
      'packs/a.wasm',
      'packs/multi.reflowpack',
      'packs/multi.reflowpack [wasm32-unknown-unknown]',
      'packs/multi.reflowpack [x86_64-unknown-linux-gnu]',
      'adapters/mine.ts',
    ]);
    expectCounts(suites[0]!, wasmReport.results);
    expectCounts(suites[1]!, bundleReport.results.filter((r) => r.target === null));
    expectCounts(suites[2]!, bundleReport.results.filter((r) => r.target === 'wasm32-unknown-unknown'));
    expectCounts(suites[3]!, bundleReport.results.filter((r) => r.target === 'x86_64-unknown-linux-gnu'));
    expectCounts(suites[4]!, hostReport.results);
    const every = all.flatMap((r) => r.results);
    expect(root['@_name']).toBe('packcheck corpus');
    expect(root['@_tests']).toBe(String(every.length));
    expect(root['@_failures']).toBe(String(every.filter((r) => r.status === 'failed').length));
    expect(root['@_errors']).toBe(String(every.filter((r) => r.status === 'errored').length));
    expect(root['@_skipped']).toBe(String(every.filter((r) => r.status === 'skipped').length));
    // Seconds, not milliseconds; the total adds up the suites.
    expect(suites[0]!.testcase![0]!['@_time']).toBe('0.013');
    const sum = suites.reduce((a, s) => a + Number(s['@_time']), 0);
    expect(Number(root['@_time'])).toBeCloseTo(sum, 2);
  });

  it('maps statuses to <failure>, <error> and <skipped>, with classname packcheck.<family>', () => {
    const { suites } = parse(xml);
    const byName = new Map(suites[0]!.testcase!.map((c) => [c['@_name'], c]));
    const passed = byName.get('wasm.shape.exports')!;
    expect(passed.failure ?? passed.error ?? passed.skipped).toBeUndefined();
    expect(passed['@_classname']).toBe('packcheck.wasm.shape');
    expect(byName.get('harness.timeout')!['@_classname']).toBe('packcheck.harness');
    expect(byName.get('abi.version.expected')!.skipped).toEqual({ '@_message': 'no expected ABI given (--expect-abi N)' });
    const err = byName.get('wasm.instance.model')!.error!;
    expect(err['@_type']).toBe('wasm.instance.model');
    expect(err['@_message']).toBe('harness bug: TypeError: x is undefined');
    expect(err['#text']).toContain('at model.ts:12');
    expect(err['#text']).toContain('replay: packcheck packs/a.wasm --only wasm.instance.model');
  });

  it('puts the first line in message= and the full message, counterexample and replay line in the body', () => {
    const { suites } = parse(xml);
    const f = suites[0]!.testcase!.find((c) => c['@_name'] === 'wasm.alloc.disjoint')!.failure!;
    expect(f['@_message']).toBe('wasm_alloc returned 0x10 twice');
    expect(f['@_type']).toBe('wasm.alloc.disjoint');
    expect(f['#text']).toContain(MULTI);
    expect(f['#text']).toContain('"hex": "00ff"');
    expect(f['#text']).toContain('replay: packcheck packs/a.wasm --only wasm.alloc.disjoint --seed 7 --path 3:1:0 --runs 50');
    // Every failure and error carries its replay line; a bundle target's names --target.
    for (const s of suites)
      for (const c of s.testcase ?? []) {
        const fault = c.failure ?? c.error;
        if (fault) expect(fault['#text']).toMatch(/\nreplay: packcheck /);
      }
    const t = suites[2]!.testcase!.find((c) => c.failure)!.failure!;
    expect(t['#text']).toContain('--target wasm32-unknown-unknown');
    const h = suites[4]!.testcase!.find((c) => c.failure)!.failure!;
    expect(h['#text']).toContain('replay: packcheck host adapters/mine.ts --only host.alloc.paired');
  });

  it('escapes markup and quotes, and keeps no character XML 1.0 forbids', () => {
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
    expect(xml).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    const { suites } = parse(xml);
    const f = suites[0]!.testcase!.find((c) => c['@_name'] === 'wasm.run.output-json')!.failure!;
    expect(f['@_message']).toBe(`bytes <&>"' differ\\u0001\\u0008\\u000b\\u001f\\ud800 end \\uffff\u{1f600}`);
    expect(f['#text']).toContain(`bytes <&>"' differ\\u0001`);
    expect(f['#text']).toContain('counterexample: payload "<&>"');
    expect(xmlSafe('a\tb\nc\rd')).toBe('a\tb\nc\rd');
  });

  it('renders no reports, and a report without results, as a valid document', () => {
    const empty = parse(toJUnit([]));
    expect(empty.root['@_tests']).toBe('0');
    const none = parse(toJUnit([report({ path: 'x & y.wasm' }, [])]));
    expect(none.suites.map((s) => s['@_name'])).toEqual(['x & y.wasm']);
    expect(none.suites[0]!['@_tests']).toBe('0');
  });
});

/** `http(s)://` inside src=, href=, url(), @import or srcset: something a browser would fetch. */
const NETWORK_REF = /(?:\bsrc|\bhref|\bsrcset|\baction|\bposter|\bdata)\s*=\s*["']?\s*(?:https?:)?\/\/|url\(\s*["']?\s*(?:https?:)?\/\/|@import/i;

describe('toHtml', () => {
  const html = toHtml([wasmReport, bundleReport, hostReport], { title: 'packcheck <corpus>' });

  it('is one self-contained file that references nothing on the network', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(NETWORK_REF);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script\b/i);
    expect(html).not.toMatch(/<img\b/i);
    expect(html).toContain('<style>');
  });

  it('has one row per result, with id and status', () => {
    const rows = [...html.matchAll(/<tr class="result (\w+)" data-id="([^"]*)" data-status="(\w+)">/g)];
    const every = [wasmReport, bundleReport, hostReport].flatMap((r) => r.results);
    expect(rows.map((m) => [m[2], m[3]])).toEqual(every.map((r) => [r.id, r.status]));
    expect(rows.every((m) => m[1] === m[3])).toBe(true);
  });

  it('shows totals, a verdict, and a detail block per failure or error with the replay line', () => {
    expect(html).toContain('<title>packcheck &lt;corpus&gt;</title>');
    expect(html).toMatch(/3 of 3 do not conform/);
    const details = [...html.matchAll(/<tr class="detail" data-for="([^"]*)">/g)].map((m) => m[1]);
    expect(details).toEqual([wasmReport, bundleReport, hostReport].flatMap((r) => r.results.filter((x) => x.status === 'failed' || x.status === 'errored').map((x) => x.id)));
    expect(html).toContain('<pre class="replay">packcheck packs/a.wasm --only wasm.alloc.disjoint --seed 7 --path 3:1:0 --runs 50</pre>');
    expect(html).toContain('wasm_alloc returned 0x10 twice\n  first:  alloc(8) = 0x10');
  });

  it('HTML-escapes all text and drops forbidden characters', () => {
    expect(html).toContain('bytes &lt;&amp;&gt;&quot;&#39; differ\\u0001');
    expect(html).not.toContain('<&>');
    // eslint-disable-next-line no-control-regex
    expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(html).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    const hostile = toHtml([report({ path: `"><script>alert(1)</script>` }, [res(`x"><img src=x>`, 'failed', { message: '</pre><script>' })])]);
    expect(hostile).not.toMatch(/<script|<img/i);
  });

  it('draws the timeline only for a report that has one', () => {
    expect(html).not.toContain('<svg');
    const timeline = Array.from({ length: 300 }, (_, i) => ({ call: i * 16, memBytes: 65536 * (17 + Math.floor(i / 10)), hostHeldBytes: 24 * i }));
    const withTl = toHtml([report({ path: 'leaky.wasm' }, [res('wasm.instance.no-leak', 'failed', { message: 'memory grew by 1.8 MiB' })], timeline)]);
    const svgs = withTl.match(/<svg class="timeline"[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(1);
    const lines = [...svgs[0]!.matchAll(/<polyline class="(\w+)" data-series="(\w+)" points="([^"]+)"/g)];
    expect(lines.map((m) => m[2])).toEqual(['memBytes', 'hostHeldBytes']);
    for (const m of lines) expect(m[3]!.split(' ')).toHaveLength(300);
    expect(svgs[0]).toContain('>calls<');
    expect(svgs[0]).toContain('>memory size<');
    expect(svgs[0]).toContain('>host-held bytes<');
    // A long run is thinned but keeps its peak.
    const long = Array.from({ length: 20_000 }, (_, i) => ({ call: i, memBytes: i === 12_345 ? 9e9 : 1e6, hostHeldBytes: 0 }));
    const thinned = toHtml([report({ path: 'long.wasm' }, [], long)]);
    const pts = /data-series="memBytes" points="([^"]+)"/.exec(thinned)![1]!.split(' ');
    expect(pts.length).toBeLessThanOrEqual(1501);
    const ys = pts.map((p) => Number(p.split(',')[1]));
    expect(Math.min(...ys)).toBeLessThan(Math.max(...ys) - 50);
  });

  it('renders an empty corpus', () => {
    const empty = toHtml([]);
    expect(empty).toContain('nothing checked');
    expect(empty).not.toContain('class="result');
  });
});

describe('a real report of the WAT reference pack', () => {
  let real: PackReport;
  beforeAll(async () => {
    real = await checkWasmPack(await readPack(await buildWat(WAT_REFERENCE, 'wat-reference')), { seed: 1, runs: 5, timeoutMs: 2000, profile: 'sdk', expectAbi: null, jobs: 2, only: ['wasm.register', 'wasm.alloc.zero'] });
  });

  it('renders as JUnit whose suite and cases match the results', () => {
    expect(real.results.length).toBeGreaterThan(1);
    const xml = toJUnit([real]);
    const { root, suites } = parse(xml);
    expect(suites).toHaveLength(1);
    expect(suites[0]!['@_name']).toBe(real.pack.path);
    expectCounts(suites[0]!, real.results);
    expect(root['@_tests']).toBe(String(real.results.length));
    expect(suites[0]!.testcase!.every((c) => c['@_classname'] === `packcheck.${c['@_name'].split('.').slice(0, -1).join('.')}`)).toBe(true);
  });

  it('renders as HTML with one row per result and nothing fetched', () => {
    const html = toHtml([real]);
    expect(html).not.toMatch(NETWORK_REF);
    expect([...html.matchAll(/<tr class="result /g)]).toHaveLength(real.results.length);
    for (const r of real.results) expect(html).toContain(`data-id="${r.id}" data-status="${r.status}"`);
  });
});
