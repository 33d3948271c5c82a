// Focused unit tests of core rooms that the battery tests reach only from
// worker threads: the ledger, registration decoding, and CLI argument parsing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { abiVersionFromRustcVV } from '../harness/abi/abi.ts';
import { parseCli } from '../harness/cli.ts';
import { Ledger, type Registration } from '../harness/hosts/wasm/ledger.ts';
import { decodeRegistration } from '../harness/abi/registration.ts';
import { DEFAULTS } from '../harness/run/replay.ts';
import { CORPUS_SCHEMA, corpusReport, writeJson } from '../harness/report/json.ts';
import { reportFixtures } from './support/report-fixtures.ts';

describe('Ledger', () => {
  it('blocks: sequence numbers, host-held bytes, highest end; taking one keeps the others in order', () => {
    const l = new Ledger();
    const a = l.addBlock(100, 10, 'a', null);
    const b = l.addBlock(200, 20, 'b', new Uint8Array([1]));
    const c = l.addBlock(300, 0, 'c', null);
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect(l.hostHeldBytes).toBe(30);
    expect(l.highestEnd).toBe(300);
    expect(l.findBlock(200)).toBe(b);
    expect(l.findBlock(201)).toBeUndefined();
    l.takeBlock(b);
    expect(l.blocks).toEqual([a, c]);
    expect(l.hostHeldBytes).toBe(10);
    l.takeBlock(b); // already taken: nothing changes
    expect(l.blocks).toEqual([a, c]);
    expect(l.hostHeldBytes).toBe(10);
    expect(l.allocations).toBe(3);
  });

  it('overlapping: half-open ranges, a zero-size block or request counts as one byte', () => {
    const l = new Ledger();
    const a = l.addBlock(100, 10, 'a', null);
    const z = l.addBlock(200, 0, 'z', null);
    expect(l.overlapping(90, 10)).toBeUndefined(); // ends where a starts
    expect(l.overlapping(110, 5)).toBeUndefined(); // starts where a ends
    expect(l.overlapping(109, 1)).toBe(a);
    expect(l.overlapping(95, 6)).toBe(a);
    expect(l.overlapping(200, 0)).toBe(z);
    expect(l.overlapping(199, 1)).toBeUndefined();
    expect(l.overlapping(199, 2)).toBe(z);
  });

  it('findings are kept up to 200; firstFinding finds the first of a kind', () => {
    const l = new Ledger();
    l.note('integrity', 'call-0', 'first');
    for (let i = 1; i < 250; i++) l.note(i === 100 ? 'overlap' : 'integrity', `call-${i}`, `d${i}`);
    expect(l.findings).toHaveLength(200);
    expect(l.firstFinding('integrity')?.detail).toBe('first');
    expect(l.firstFinding('overlap')?.call).toBe('call-100');
    expect(l.firstFinding('alloc-bounds')).toBeUndefined();
  });

  it('the timeline: off by default; sampled every N calls; thinned and slowed past 2,000 samples', () => {
    const off = new Ledger();
    for (let i = 0; i < 10; i++) off.sample(i);
    expect(off.calls).toBe(10);
    expect(off.timeline).toEqual([]);

    const l = new Ledger();
    l.sampleEvery = 3;
    l.addBlock(0, 7, 'x', null);
    for (let i = 1; i <= 9; i++) l.sample(i * 1000);
    expect(l.timeline).toEqual([
      { call: 3, memBytes: 3000, hostHeldBytes: 7 },
      { call: 6, memBytes: 6000, hostHeldBytes: 7 },
      { call: 9, memBytes: 9000, hostHeldBytes: 7 },
    ]);

    const t = new Ledger();
    t.sampleEvery = 1;
    for (let i = 1; i <= 2000; i++) t.sample(i);
    // The 2,000th sample halves the timeline (every other one kept) and doubles the stride.
    expect(t.timeline).toHaveLength(1000);
    expect(t.sampleEvery).toBe(2);
    expect(t.timeline.slice(0, 2).map((s) => s.call)).toEqual([2, 4]);
    expect(t.timeline.at(-1)!.call).toBe(2000);
    t.sample(0);
    t.sample(0);
    expect(t.timeline.at(-1)!.call).toBe(2002);
    expect(t.timeline).toHaveLength(1001);
  });
});

describe('decodeRegistration', () => {
  const reg = (text: string | Uint8Array | null): Registration => {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    return { index: 2, ptr: 1024, len: bytes?.length ?? 99, factoryId: 7, bytes };
  };
  const problem = (text: string | Uint8Array | null, profile: 'sdk' | 'legacy' = 'sdk') => {
    const d = decodeRegistration(reg(text), profile);
    if (!('problem' in d)) throw new Error(`expected a problem, got ${JSON.stringify(d)}`);
    return d.problem;
  };

  it('a metadata object becomes a template with the factory id', () => {
    expect(decodeRegistration(reg('{"name":"echo","inports":["in"],"outports":["out","err"],"extra":1}'), 'sdk')).toEqual({
      template: { name: 'echo', factoryId: 7, inports: ['in'], outports: ['out', 'err'] },
    });
  });

  it('each defect of the metadata is named, with where the registration was', () => {
    expect(problem(null)).toBe('registration #2 (ptr=1024, len=99, factory_id=7): the metadata range lies outside memory');
    expect(problem(new Uint8Array([0x7b, 0xff]))).toMatch(/^registration #2 .*: the metadata .* is not valid UTF-8$/);
    expect(problem('{"inports":[],"outports":[]}')).toMatch(/has no non-empty string "name"$/);
    expect(problem('{"name":"","inports":[],"outports":[]}')).toMatch(/has no non-empty string "name"$/);
    expect(problem('{"name":"a","inports":[1],"outports":[]}')).toMatch(/has no string array "inports"$/);
    expect(problem('{"name":"a","inports":[],"outports":"out"}')).toMatch(/has no string array "outports"$/);
    expect(problem('["a"]')).toMatch(/is not a JSON object \{"name", "inports", "outports"\} \(a bare template name is accepted only with --profile legacy\)$/);
    expect(problem('echo')).toMatch(/--profile legacy/);
  });

  it('the legacy profile accepts a bare name, but not an empty one', () => {
    expect(decodeRegistration(reg('echo'), 'legacy')).toEqual({ template: { name: 'echo', factoryId: 7, inports: [], outports: [] } });
    const empty = problem('', 'legacy');
    expect(empty).toMatch(/is not a JSON object/);
    expect(empty).not.toMatch(/--profile legacy/);
  });
});

describe('parseCli', () => {
  const usage = (argv: string[]) => {
    try {
      parseCli(argv);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`expected a usage error for ${argv.join(' ')}`);
  };

  it('help, version and list win over everything else', () => {
    expect(parseCli(['-h'])).toBe('help');
    expect(parseCli(['x.wasm', '--help'])).toBe('help');
    expect(parseCli(['--version'])).toBe('version');
    expect(parseCli(['--list'])).toBe('list');
  });

  it('the defaults: no seed given, a random one; runs, timeout and profile from DEFAULTS', () => {
    const p = parseCli(['a.wasm', 'b.so']);
    if (typeof p === 'string') throw new Error(p);
    expect(p.paths).toEqual(['a.wasm', 'b.so']);
    expect(p.seedGiven).toBe(false);
    expect(Number.isInteger(p.opts.seed)).toBe(true);
    expect(p.opts).toMatchObject({ runs: DEFAULTS.runs, timeoutMs: DEFAULTS.timeoutMs, profile: DEFAULTS.profile, expectAbi: null, only: undefined, skip: undefined });
    expect(p.quiet).toBe(false);
    expect(p.opts.jobs).toBeLessThanOrEqual(4);
  });

  it('every option is read into its place', () => {
    const p = parseCli(
      ['p.wasm', '--runs', '7', '--seed=-5', '--only', 'wasm.run.output-json', '--path', '1:2@AB', '--json', 'r.json', '--junit', 'j.xml', '--html', 'h.html'].concat(
        ['--expect-abi', '42', '--timeout-ms', '300', '--profile', 'legacy', '--jobs', '9', '--entrypoint', 'reg', '--target', 'x86_64-unknown-linux-gnu', '--shard', '2/3', '-q', '--skip', 'wasm.alloc.*'],
      ),
    );
    if (typeof p === 'string') throw new Error(p);
    expect(p).toMatchObject({ json: 'r.json', junit: 'j.xml', html: 'h.html', entrypoint: 'reg', target: 'x86_64-unknown-linux-gnu', shard: { index: 2, count: 3 }, quiet: true, jobs: 9, seedGiven: true });
    expect(p.opts).toEqual({ seed: -5, runs: 7, path: '1:2@AB', timeoutMs: 300, profile: 'legacy', expectAbi: 42, only: ['wasm.run.output-json'], skip: ['wasm.alloc.*'], jobs: 4 });
  });

  it('a negative seed may be given as two words (--seed -5), as a replay line or a printed seed is copied', () => {
    const p = parseCli(['p.wasm', '--seed', '-5', '--runs', '3']);
    if (typeof p === 'string') throw new Error(p);
    expect(p.opts).toMatchObject({ seed: -5, runs: 3 });
    expect(p.paths).toEqual(['p.wasm']);
    // Only after an option that takes a value: after a flag, -5 is still an unknown option.
    expect(usage(['p.wasm', '--quiet', '-5'])).toMatch(/^Unknown option '-5'/);
    expect(usage(['p.wasm', '--expect-abi', '-1'])).toMatch(/--expect-abi must be between 0 and 4294967295, got -1/);
  });

  it('diff reads a two-word negative seed too', async () => {
    const { parseDiff } = await import('../harness/commands/diff.ts');
    expect(parseDiff(['old.wasm', 'new.wasm', '--seed', '-5']).opts.seed).toBe(-5);
  });

  it('--rustc-vv reads the file and derives the expected ABI version; an unreadable file is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'packcheck-cli-unit-'));
    const f = join(dir, 'vv.txt');
    writeFileSync(f, 'rustc 1.63.0\nbinary: rustc\ncommit-hash: unknown\nhost: x86_64-unknown-linux-gnu\nrelease: 1.63.0\nLLVM version: 14.0.6\n');
    const p = parseCli(['p.wasm', '--rustc-vv', f]);
    if (typeof p === 'string') throw new Error(p);
    expect(Number.isInteger(p.opts.expectAbi)).toBe(true);
    expect(p.opts.expectAbi).toBe(abiVersionFromRustcVV(readFileSync(f)));
    expect(usage(['p.wasm', '--rustc-vv', join(dir, 'missing.txt')])).toMatch(/--rustc-vv: cannot read .*missing\.txt/);
    expect(usage(['p.wasm', '--rustc-vv', f, '--expect-abi', '1'])).toBe('give --expect-abi or --rustc-vv, not both');
  });

  it('bad arguments are usage errors that say what is expected', () => {
    expect(usage(['--frobnicate'])).toMatch(/^Unknown option '--frobnicate'.* \(see packcheck --help\)$/);
    expect(usage(['--runs', 'many'])).toBe('--runs takes a whole number, got "many"');
    expect(usage(['--runs', '0'])).toBe('--runs must be between 1 and 1000000, got 0');
    expect(usage(['--jobs', '65'])).toBe('--jobs must be between 1 and 64, got 65');
    expect(usage(['--seed', String(2 ** 31)])).toMatch(/--seed must be between -2147483648 and 2147483647/);
    expect(usage(['--expect-abi=-1'])).toMatch(/--expect-abi must be between 0 and 4294967295/);
    expect(usage(['--profile', 'strict'])).toBe('--profile must be sdk or legacy, got "strict"');
    expect(usage(['--shard', '0/2'])).toMatch(/--shard takes K\/N with 1 <= K <= N/);
    expect(usage(['--shard', '3/2'])).toMatch(/--shard takes K\/N/);
    expect(usage(['--shard', 'half'])).toMatch(/--shard takes K\/N/);
    expect(usage(['--only', 'wasm.nope'])).toMatch(/--only: unknown property id "wasm.nope"/);
    expect(usage(['--skip', 'nothing.*'])).toMatch(/--skip: unknown property id "nothing.\*"/);
    expect(usage(['--path', 'x:y', '--only', 'wasm.run.output-json', '--seed', '1'])).toMatch(/--path takes the path of a failure's replay line/);
    expect(usage(['--path', '1:2', '--seed', '1'])).toBe('--path replays one property: give it with --only ID');
    expect(usage(['--path', '1:2', '--only', 'wasm.run.output-json'])).toBe('--path needs the --seed it was found with');
  });

  it('id prefixes: a family with or without *, not a partial word', () => {
    const p = parseCli(['--only', 'wasm.run, wasm.alloc.*,,']);
    if (typeof p === 'string') throw new Error(p);
    expect(p.opts.only).toEqual(['wasm.run', 'wasm.alloc.*']);
    expect(usage(['--only', 'wasm.ru'])).toMatch(/unknown property id "wasm.ru"/);
  });
});

describe('the corpus JSON (report/json.ts)', () => {
  const options = { seed: 1, runs: 30, timeoutMs: 2000, profile: 'sdk' as const, expectAbi: null, only: null, skip: null };
  const { res, report } = reportFixtures(options, 'a.wasm');

  it('sums the packs, drops tool and options from each report, exit code 1 when any pack failed', () => {
    const ok = report({ path: 'a.wasm' }, [res('wasm.shape.exports', 'passed'), res('wasm.run.output-json', 'skipped')]);
    const bad = report({ path: 'b.wasm' }, [res('wasm.shape.exports', 'failed'), res('wasm.run.output-json', 'errored')]);
    const c = corpusReport([ok, bad], options, 42);
    expect(c).toMatchObject({ schema: CORPUS_SCHEMA, shard: null, options, exitCode: 1 });
    expect(c.summary).toEqual({ packs: 2, passed: 1, failed: 1, skipped: 1, errored: 1, durationMs: 42 });
    expect(c.reports.map((r) => r.pack.path)).toEqual(['a.wasm', 'b.wasm']);
    expect(c.reports[0]).not.toHaveProperty('tool');
    expect(c.reports[0]).not.toHaveProperty('options');
    expect(corpusReport([ok], options, 1).exitCode).toBe(0);
  });

  it('writeJson writes indented JSON with a final newline', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'packcheck-json-unit-')), 'r.json');
    writeJson(f, { a: [1] });
    expect(readFileSync(f, 'utf8')).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });
});
