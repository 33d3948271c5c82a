// Corpus mode: several paths and directories, parallel children, shards that
// merge into what an unsharded run gives, and the catalog listing.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_IDS } from '../properties/catalog.ts';
import { STATEMENTS } from '../properties/statements.ts';
import { buildMutant, buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'packcheck.js');
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
const FAST = ['--seed', '5', '--runs', '5', '--only', 'abi.version,wasm.register,wasm.alloc.zero,wasm.free.noop'];

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'packcheck-corpus-test-'));
  mkdirSync(join(dir, 'packs', 'nested'), { recursive: true });
  copyFileSync(await buildWat(WAT_REFERENCE, 'wat-reference'), join(dir, 'packs', 'good.wasm'));
  copyFileSync((await buildMutant(MUTANTS.find((m) => m.name === 'wat-alloc-zero-block')!, null))!, join(dir, 'packs', 'nested', 'bad.wasm'));
  copyFileSync((await buildMutant(MUTANTS.find((m) => m.name === 'wat-free-zero-traps')!, null))!, join(dir, 'packs', 'nested', 'bad2.wasm'));
  writeFileSync(join(dir, 'packs', 'notes.txt'), 'not a pack: skipped when searching directories');
  writeFileSync(join(dir, 'fake.wasm'), 'text with a .wasm name');
}, 120_000);

const strip = (c: { reports: { summary: { durationMs: number }; results: { durationMs: number }[] }[]; summary: object }) =>
  c.reports.map((r) => ({ ...r, summary: { ...r.summary, durationMs: 0 }, results: r.results.map((x) => ({ ...x, durationMs: 0 })) }));

describe('corpus mode', () => {
  it('checks every pack found, fails unloadable paths as harness.load, and writes corpus@1', async () => {
    const json = join(dir, 'all.json');
    const r = await run([join(dir, 'packs'), join(dir, 'fake.wasm'), join(dir, 'missing.wasm'), ...FAST, '--json', json]);
    expect(r.code).toBe(1);
    const c = JSON.parse(readFileSync(json, 'utf8'));
    expect(c.schema).toBe('packcheck/corpus@1');
    expect(c.reports.map((x: { pack: { path: string } }) => x.pack.path.slice(dir.length))).toEqual(['/fake.wasm', '/missing.wasm', '/packs/good.wasm', '/packs/nested/bad.wasm', '/packs/nested/bad2.wasm']);
    const load = c.reports[1].results[0];
    expect(load).toMatchObject({ id: 'harness.load', status: 'failed' });
    expect(load.message).toMatch(/no such file/);
    expect(c.reports[0].results[0].id).toBe('harness.load');
    expect(c.reports[2].exitCode).toBe(0);
    expect(c.reports[3].results.find((x: { id: string }) => x.id === 'wasm.alloc.zero').status).toBe('failed');
    expect(c.summary.packs).toBe(5);
    // The matrix: a header of families, and the failing family marked in the mutant's row.
    const header = r.out.split('\n').find((l) => l.startsWith('pack '))!;
    const fams = header.split(/\s+/).slice(1);
    const row = r.out.split('\n').filter((l) => /nested\/bad\.wasm /.test(l)).pop()!.split(/\s+/).slice(1); // the matrix comes last
    expect(row[fams.indexOf('wasm.alloc')]).toBe('✗1');
    expect(row[fams.indexOf('wasm.register')]).toBe('✓');
  });

  it('two shards merged give what one unsharded run gives, durations aside', async () => {
    const packs = join(dir, 'packs');
    await run([packs, ...FAST, '--json', join(dir, 'whole.json')]);
    const s1 = await run([packs, ...FAST, '--shard', '1/2', '--json', join(dir, 's1.json')]);
    const s2 = await run([packs, ...FAST, '--shard', '2/2', '--json', join(dir, 's2.json')]);
    expect([s1.code, s2.code]).toEqual([1, 1]); // shard 1: good + bad, shard 2: bad2
    const m = await run(['merge', join(dir, 's2.json'), join(dir, 's1.json'), '--json', join(dir, 'merged.json')]);
    expect(m.code).toBe(1);
    const whole = JSON.parse(readFileSync(join(dir, 'whole.json'), 'utf8'));
    const merged = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8'));
    expect(strip(merged)).toEqual(strip(whole));
    expect({ ...merged.summary, durationMs: 0 }).toEqual({ ...whole.summary, durationMs: 0 });
    expect(JSON.parse(readFileSync(join(dir, 's1.json'), 'utf8')).shard).toEqual({ index: 1, count: 2 });
  });

  it('a shard that receives no file exits 0 with an empty corpus@1', async () => {
    const json = join(dir, 'empty.json');
    const r = await run([join(dir, 'packs', 'good.wasm'), ...FAST, '--shard', '2/2', '--json', json]);
    expect(r.code).toBe(0);
    const c = JSON.parse(readFileSync(json, 'utf8'));
    expect(c.reports).toEqual([]);
    expect(c.exitCode).toBe(0);
  });

  it('paths that yield no file at all exit 2 with one line', async () => {
    mkdirSync(join(dir, 'empty-dir'), { recursive: true });
    const r = await run([join(dir, 'empty-dir'), ...FAST]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('--quiet prints nothing but still writes the report and sets the exit code', async () => {
    const r = await run([join(dir, 'packs', 'nested', 'bad.wasm'), ...FAST, '--quiet', '--json', join(dir, 'q.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'q.json'), 'utf8')).exitCode).toBe(1);
  });

  it('--junit and --html are written for a single pack and for a corpus', async () => {
    const { XMLParser, XMLValidator } = await import('fast-xml-parser');
    for (const args of [[join(dir, 'packs', 'nested', 'bad.wasm')], [join(dir, 'packs')]]) {
      const junit = join(dir, 'r.xml');
      const html = join(dir, 'r.html');
      const r = await run([...args, ...FAST, '--quiet', '--junit', junit, '--html', html]);
      expect(r.code).toBe(1);
      const xml = readFileSync(junit, 'utf8');
      expect(XMLValidator.validate(xml)).toBe(true);
      const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
      const suites = [doc.testsuites.testsuite].flat();
      expect(suites.length).toBe(args[0]!.endsWith('.wasm') ? 1 : 3);
      expect(Number(doc.testsuites['@_failures'])).toBeGreaterThan(0);
      const page = readFileSync(html, 'utf8');
      expect(page).toMatch(/class="result failed"/);
      expect(page).not.toMatch(/https?:\/\//);
    }
  });

  it('--list prints every catalog id with its ABI and a statement', async () => {
    const r = await run(['--list']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(ALL_IDS.length);
    for (const id of ALL_IDS) {
      expect(STATEMENTS[id], id).toBeTruthy();
      expect(r.out).toContain(id);
    }
  });
});
