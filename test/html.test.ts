// The HTML report in a real headless Chromium: it renders offline (every
// request but file: and data: is blocked, and none is attempted), its rows and
// failure details are visible, and the memory timeline draws.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { toHtml } from '../harness/report/html.ts';
import { REPORT_SCHEMA, TOOL, summarize, exitCodeOf, type PackReport, type PackInfo, type PropertyResult } from '../harness/report/model.ts';
import { reportFixtures } from './support/report-fixtures.ts';
import type { HostReport } from '../harness/run/host-runner.ts';
import type { Sample } from '../harness/hosts/wasm/ledger.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SCREENSHOT = '/tmp/packcheck-report.png';
const named = (name: string) => (HAVE_CHROMIUM ? name : `${name} (skipped: ${CHROMIUM} is missing; install the chromium package)`);

const OPTIONS = { seed: 42, runs: 100, timeoutMs: 2000, profile: 'sdk' } as const;

const { res, report } = reportFixtures(OPTIONS, 'packs/leaky.wasm');

// A pack that leaks: memory grows a page every 40 calls, host-held bytes climb.
const TIMELINE: Sample[] = Array.from({ length: 400 }, (_, i) => ({ call: (i + 1) * 16, memBytes: 65536 * (17 + Math.floor(i / 40)), hostHeldBytes: 48 * i + (i % 7) * 16 }));

const LEAKY = report(
  { path: 'packs/leaky.wasm' },
  [
    res('wasm.shape.exports', 'passed', { runs: 1 }),
    res('wasm.register.status', 'passed'),
    res('wasm.alloc.zero', 'passed'),
    res('wasm.alloc.no-leak', 'failed', {
      message: 'memory grew from 1.1 MiB to 1.6 MiB over 6400 calls that free everything they allocate\n  host-held bytes at the end: 19152 (expected 0)\n  first unfreed block: 0x11040 (48 bytes, run output)',
      counterexample: { calls: 6400, payload: { hex: '7b226b223a317d', length: 7 } },
      path: '17:2',
    }),
    res('wasm.run.output-json', 'failed', { message: `output is not JSON: <&>"' \u0001 unexpected token`, counterexample: '{"k":1' }),
    res('wasm.instance.model', 'errored', { message: 'the harness could not evaluate the model: TypeError: undefined is not a function' }),
    res('abi.version.expected', 'skipped', { message: 'no expected ABI given (--expect-abi N)' }),
  ],
  TIMELINE,
);

const BUNDLE = report(
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
    res('wasm.alloc.zero', 'passed', { target: 'wasm32-unknown-unknown' }),
    res('vtable.register.status-ok', 'passed', { target: 'x86_64-unknown-linux-gnu' }),
    res('vtable.drop.frees', 'skipped', { target: 'x86_64-unknown-linux-gnu', message: 'no allocation tracker on this platform' }),
  ],
);

const HOST: HostReport = (() => {
  const results = [res('host.register.once', 'passed'), res('host.output.freed', 'passed')];
  return { schema: REPORT_SCHEMA, tool: TOOL, host: { path: 'adapters/reflow-host.ts' }, options: { ...OPTIONS }, results, summary: summarize(results, 210), exitCode: exitCodeOf(results) };
})();

const REPORTS = [LEAKY, BUNDLE, HOST];
const RESULT_COUNT = REPORTS.reduce((n, r) => n + r.results.length, 0);

describe('the HTML report in headless Chromium', () => {
  let browser: Browser | undefined;
  let dir: string | undefined;

  /** Opens html from a file:// URL with every other request blocked; returns the page and the requests it attempted. */
  async function open(html: string, name: string): Promise<{ page: Page; blocked: string[]; problems: string[] }> {
    const file = join(dir!, name);
    writeFileSync(file, html);
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const blocked: string[] = [];
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.route('**', (r) => {
      const url = r.request().url();
      if (url.startsWith('data:') || url.startsWith('file:')) return r.continue();
      blocked.push(url);
      return r.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, blocked, problems };
  }

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) return;
    dir = mkdtempSync(join(tmpdir(), 'packcheck-html-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!HAVE_CHROMIUM)(named('blocks and records a network request (the check below is not vacuous)'), async () => {
    const { page, blocked } = await open('<!DOCTYPE html><img src="http://packcheck.invalid/x.png">', 'control.html');
    await page.waitForLoadState('load');
    expect(blocked).toEqual(['http://packcheck.invalid/x.png']);
    await page.close();
  });

  it.skipIf(!HAVE_CHROMIUM)(named('renders offline: rows, a visible verdict, failure details with the replay line, the timeline'), async () => {
    const { page, blocked, problems } = await open(toHtml(REPORTS, { title: 'packcheck report' }), 'report.html');

    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);

    await expect(page.locator('tr.result').count()).resolves.toBe(RESULT_COUNT);
    const failed = page.locator('tr.result[data-status="failed"][data-id="wasm.alloc.no-leak"]');
    expect(await failed.isVisible()).toBe(true);
    expect(await failed.locator('td').nth(1).innerText()).toBe('wasm.alloc.no-leak');
    for (const st of ['passed', 'failed', 'errored', 'skipped']) expect(await page.locator(`tr.result[data-status="${st}"]`).count()).toBeGreaterThan(0);

    const verdict = page.locator('header .verdict');
    expect(await verdict.isVisible()).toBe(true);
    expect(await verdict.innerText()).toMatch(/1 of 3 does not conform/);

    const detail = page.locator('tr.detail[data-for="wasm.alloc.no-leak"]');
    expect(await detail.isVisible()).toBe(true);
    const replay = detail.locator('pre.replay');
    expect(await replay.isVisible()).toBe(true);
    expect(await replay.innerText()).toBe('packcheck packs/leaky.wasm --only wasm.alloc.no-leak --seed 42 --path 17:2');
    expect(await detail.locator('pre.message').innerText()).toContain('host-held bytes at the end: 19152');
    expect(await detail.locator('pre.counterexample').innerText()).toContain('"hex": "7b226b223a317d"');
    // Hostile text arrives as text, not markup.
    expect(await page.locator('tr.detail[data-for="wasm.run.output-json"] pre.message').innerText()).toContain(`<&>"'`);

    // Bundle targets get a table each.
    expect(await page.locator('section.pack[data-path="packs/multi.reflowpack"] div.target').count()).toBe(3);

    // One timeline, for the one report that has samples.
    const svg = page.locator('svg.timeline');
    expect(await svg.count()).toBe(1);
    const box = await svg.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(100);
    const lines = await svg.locator('polyline').evaluateAll((els) =>
      (els as SVGPolylineElement[]).map((p) => {
        const b = p.getBBox();
        const pts = p.points;
        return { series: p.dataset.series, points: pts.numberOfItems, width: b.width, height: b.height, risesBy: pts.getItem(0).y - pts.getItem(pts.numberOfItems - 1).y };
      }),
    );
    expect(lines.map((l) => l.series)).toEqual(['memBytes', 'hostHeldBytes']);
    for (const l of lines) {
      expect(l.points).toBe(TIMELINE.length);
      expect(l.width).toBeGreaterThan(300);
      // A leak: the line climbs (screen y shrinks) most of the plot's height.
      expect(l.risesBy).toBeGreaterThan(80);
    }
    const labels = await svg.locator('text').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['calls', 'memory size', 'host-held bytes']));

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(blocked).toEqual([]);
    await page.close();
  });
});
