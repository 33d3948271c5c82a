// packcheck diff: two builds of one pack. The WAT reference pack against a
// byte-identical copy shows nothing; against variants built to change one
// observable thing each, exactly that kind of difference, shrunk, with a
// replay line that shows it again; --allow and --ignore-error-text; the
// exact JSON comparator; native builds (the Rust native pack and mutants).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readPack } from '../harness/run/pack-file.ts';
import { diffPacks, type DiffResult } from '../harness/run/diff/diff.ts';
import { jsonEqual, parseResult, sameResult } from '../harness/run/diff/json-equal.ts';
import type { DiffOptions } from '../harness/run/diff/model.ts';
import { trackerEnv } from '../harness/hosts/native/alloc-tracker.ts';
import { buildMutant, buildNativeRust, buildWat, WAT_REFERENCE, type Patch } from '../packs-under-test/build.ts';
import { MUTANTS, NATIVE_MUTANTS } from '../packs-under-test/manifest.ts';
import { rustc, rustcMissing } from './support/check.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'packcheck.js');
const SEED = 20261201;
const OPTS: DiffOptions = { seed: SEED, runs: 60, ignoreErrorText: false, allow: [], timeoutMs: 2000 };
const utf8 = (s: string) => new TextEncoder().encode(s);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** WAT variants of the reference pack, each changing one observable thing. */
const VARIANTS: Record<string, Patch[]> = {
  // With no "in" input, "out" is a Boolean instead of a Flow: one input class answers differently.
  'flow-output': [
    ['(global $OUT_FLOW        i32 (i32.const 656))', '(global $OUT_FLOW        i32 (i32.const 1440))'],
    ['  (data (i32.const 960) "true\\00")', '  (data (i32.const 1440) "{\\"type\\":\\"Boolean\\",\\"data\\":false}\\00")\n  (data (i32.const 960) "true\\00")'],
  ],
  // A second template, which create_actor does not know (only the registration changes).
  'template-added': [
    ['  (data (i32.const 960) "true\\00")', '  (data (i32.const 1472) "{\\"name\\":\\"wat.extra\\",\\"inports\\":[],\\"outports\\":[]}\\00")\n  (data (i32.const 960) "true\\00")'],
    ['      (global.get $META) (call $strlen (global.get $META)) (i32.const 0))\n', '      (global.get $META) (call $strlen (global.get $META)) (i32.const 0))\n    (call $host_register_template (i32.const 1472) (call $strlen (i32.const 1472)) (i32.const 1))\n'],
  ],
  // Invalid UTF-8 answers -3 (the same error text).
  'utf8-code': [['(then (return (call $emit_error (i32.const -2) (global.get $ERR_UTF8)', '(then (return (call $emit_error (i32.const -3) (global.get $ERR_UTF8)']],
  // Only the text of the parse error changes.
  'parse-text': [['"{\\"error\\":\\"payload does not parse\\"}\\00"', '"{\\"error\\":\\"the payload is not JSON\\"}\\00"']],
  // An empty payload succeeds.
  'empty-ok': [
    ['    (if (i32.eqz (call $utf8_valid (local.get $payload)', '    (if (i32.eqz (local.get $len))\n      (then (return (call $emit_success (local.get $entry) (local.get $out_ptr_ptr) (local.get $out_len_ptr)))))\n    (if (i32.eqz (call $utf8_valid (local.get $payload)'],
  ],
  // Another toolchain: another ABI version, the same behaviour.
  'abi-bump': [['(i32.const 2522422))', '(i32.const 2522423))']],
  // An extra inport in the metadata (the pack ignores it).
  'extra-inport': [['\\"inports\\":[\\"in\\"]', '\\"inports\\":[\\"in\\",\\"x\\"]']],
};

const built = new Map<string, string>();
async function variant(name: string): Promise<string> {
  if (!built.has(name)) built.set(name, name in VARIANTS ? await buildWat(WAT_REFERENCE, `wat-diff-${name}`, VARIANTS[name]) : (await buildMutant(MUTANTS.find((m) => m.name === name)!, null))!);
  return built.get(name)!;
}
const reference = () => buildWat(WAT_REFERENCE, 'wat-reference');
const diff = async (a: string, b: string, o: Partial<DiffOptions> = {}) => diffPacks(await readPack(a), await readPack(b), { ...OPTS, ...o });
const kinds = (r: DiffResult) => r.differences.map((d) => d.kind).sort();
/** The kinds present (a kind may show for several input classes: each is a difference of its own). */
const kindSet = (r: DiffResult) => [...new Set(kinds(r))];
const dynamic = (r: DiffResult) => r.differences.filter((d) => d.input !== undefined) as (DiffResult['differences'][number] & { input: { ticks: { kind: string; payload: string }[] } })[];

describe('the exact JSON comparator', () => {
  it('compares numbers exactly, i64 beyond 2^53 included, and ignores key order', () => {
    const eq = (a: string, b: string) => jsonEqual(parseResult(utf8(a)), parseResult(utf8(b)));
    // JSON.parse reads both as 9007199254740992: they differ.
    expect(JSON.parse('9007199254740993')).toBe(JSON.parse('9007199254740992'));
    expect(eq('{"data":9007199254740993}', '{"data":9007199254740992}')).toBe(false);
    expect(eq('{"data":-9223372036854775808}', '{"data":-9223372036854775808}')).toBe(true);
    expect(eq('{"data":9223372036854775807}', '{"data":9223372036854775806}')).toBe(false);
    expect(eq('{"a":1,"b":[1,{"c":2}]}', '{"b":[1,{"c":2.0}],"a":1e0}')).toBe(true);
    expect(eq('{"a":[1,2]}', '{"a":[2,1]}')).toBe(false);
    expect(eq('{"a":1}', '{"a":1,"b":null}')).toBe(false);
    expect(eq('{"a":"1"}', '{"a":1}')).toBe(false);
    // Not JSON: byte for byte.
    expect(sameResult(utf8('not json'), utf8('not json'))).toBe(true);
    expect(sameResult(utf8('not json'), utf8('not  json'))).toBe(false);
    expect(sameResult(null, utf8('{}'))).toBe(false);
  });
});

describe('packcheck diff, wasm builds', () => {
  it('a byte-identical copy: no difference, exit 0', async () => {
    const ref = await reference();
    const copy = join(mkdtempSync(join(tmpdir(), 'packcheck-diff-')), 'copy.wasm');
    copyFileSync(ref, copy);
    const r = await diff(ref, copy);
    expect(r.differences).toEqual([]);
    expect(r.notes).toEqual([]);
    expect(r.inputs).toBeGreaterThanOrEqual(OPTS.runs);
    expect(r.old.templates.map((t) => t.name)).toEqual(['wat.echo']);
  });

  // Each variant: exactly its planted kind of difference; dynamic ones shrunk to one tick.
  const cases: [string, string[]][] = [
    ['flow-output', ['output']],
    ['template-added', ['templates']],
    ['utf8-code', ['status']],
    ['parse-text', ['output']],
    ['empty-ok', ['error-vs-success']],
    ['abi-bump', ['abi-version']],
    ['extra-inport', ['ports']],
    ['wat-run-traps', ['trap']],
    ['wat-no-destroy-export', ['exports']],
  ];
  for (const [name, want] of cases) {
    it(`${name}: ${want.join(', ')}`, async () => {
      const r = await diff(await reference(), await variant(name));
      expect(kindSet(r), JSON.stringify(r.differences, null, 1)).toEqual(want);
      for (const d of dynamic(r)) {
        expect(d.input.ticks.length, JSON.stringify(d.input)).toBe(1);
        expect(d.replay).toMatch(new RegExp(`^packcheck diff \\S+ \\S+ --seed ${SEED} --path [\\d:]+ --runs 60$`));
      }
    });
  }

  it('the planted differences, in detail: what went in and what each build answered', async () => {
    const flow = dynamic(await diff(await reference(), await variant('flow-output')))[0]!;
    expect(flow.input.ticks[0]!.kind).toMatch(/^valid:(no-input|empty-input|ports=)/);
    expect(JSON.stringify(flow.old)).toContain('Flow');
    expect(JSON.stringify(flow.new)).toContain('Boolean');
    const code = dynamic(await diff(await reference(), await variant('utf8-code')))[0]!;
    expect(code.input.ticks[0]!.kind).toMatch(/^invalid-utf8:/);
    expect([code.old, code.new]).toEqual([[expect.stringMatching(/^status -2, result /)], [expect.stringMatching(/^status -3, result /)]]);
    const empty = dynamic(await diff(await reference(), await variant('empty-ok')))[0]!;
    expect(empty.input.ticks[0]!.payload).toBe('"" (0 bytes)');
    const added = (await diff(await reference(), await variant('template-added'))).differences[0]!;
    expect(added).toMatchObject({ kind: 'templates', template: 'wat.extra', old: null, new: { inports: [], outports: [] } });
  });

  it('--ignore-error-text: a variant that changes only error text shows nothing', async () => {
    expect((await diff(await reference(), await variant('parse-text'), { ignoreErrorText: true })).differences).toEqual([]);
    // Status changes still show.
    expect(kinds(await diff(await reference(), await variant('utf8-code'), { ignoreErrorText: true }))).toEqual(['status']);
  });

  it('CLI: exit 1 on a difference, --allow turns it into exit 0, and the JSON is packcheck/diff@1', async () => {
    const [ref, bump] = [await reference(), await variant('abi-bump')];
    const dir = mkdtempSync(join(tmpdir(), 'packcheck-diff-'));
    const failing = await cli('diff', ref, bump, '--seed', String(SEED), '--runs', '20', '--json', join(dir, 'a.json'));
    expect(failing.code, failing.stderr).toBe(1);
    expect(failing.stdout).toMatch(/DIFF\s+abi-version/);
    expect(failing.stdout).toContain('old: 2522422');
    const a = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    expect(Object.keys(a)).toEqual(['schema', 'tool', 'old', 'new', 'options', 'differences', 'notes', 'summary', 'exitCode']);
    expect(a).toMatchObject({ schema: 'packcheck/diff@1', options: { seed: SEED, runs: 20, ignoreErrorText: false, allow: [] }, summary: { differences: 1 }, exitCode: 1 });
    expect(a.differences).toEqual([{ kind: 'abi-version', old: 2522422, new: 2522423, replay: `packcheck diff ${ref} ${bump}` }]);
    const allowed = await cli('diff', ref, bump, '--seed', String(SEED), '--runs', '20', '--allow', 'abi-version', '--json', join(dir, 'b.json'));
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/allowed\s+abi-version/);
    expect(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'))).toMatchObject({ options: { allow: ['abi-version'] }, differences: [{ kind: 'abi-version', allowed: true }], exitCode: 0 });
    // Allowing another kind does not cover it.
    expect((await cli('diff', ref, bump, '--seed', String(SEED), '--runs', '20', '--allow', 'output,trap', '-q')).code).toBe(1);
  });

  it('the replay line shows exactly that difference again (and nothing once it is gone)', async () => {
    const [ref, mut] = [await reference(), await variant('utf8-code')];
    const d = dynamic(await diff(ref, mut))[0]!;
    const words = d.replay.split(' ');
    expect(words.slice(0, 4)).toEqual(['packcheck', 'diff', ref, mut]);
    const json = join(mkdtempSync(join(tmpdir(), 'packcheck-diff-')), 'r.json');
    const again = await cli(...words.slice(1), '--json', json);
    expect(again.code, again.stderr).toBe(1);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.differences).toEqual([{ ...d }]);
    expect(rep.summary.inputs).toBe(1);
    // The same input on two equal builds: no difference, exit 0.
    const fixed = await cli('diff', ref, ref, ...words.slice(4));
    expect(fixed.code, fixed.stdout).toBe(0);
  });

  it('exit 2 with one line: a wasm pack against a native one, a missing file, one path only', async () => {
    const ref = await reference();
    const so = join(mkdtempSync(join(tmpdir(), 'packcheck-diff-')), 'fake.so');
    const elf = new Uint8Array(64);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    (await import('node:fs')).writeFileSync(so, elf);
    for (const args of [[ref, so], [ref, '/nonexistent/x.wasm'], [ref]]) {
      const r = await cli('diff', ...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect((await cli('diff', ref, so)).stderr).toMatch(/is a wasm pack and .* is a native \(ELF\) pack: diff compares two builds of one pack/);
  });
});

const tracker = trackerEnv();
describe.skipIf(!rustc)(`packcheck diff, native builds${rustcMissing ? ` (skipped: ${rustcMissing})` : ''}`, () => {
  const nativeRef = () => buildNativeRust(rustc!, 'native-reference');
  const nativeMutant = async (name: string) => (await buildMutant(NATIVE_MUTANTS.find((m) => m.name === name)!, rustc))!;

  it('the Rust native reference pack against itself: no difference', async () => {
    const r = await diff(nativeRef(), nativeRef(), { runs: 20 });
    expect(r.differences).toEqual([]);
    expect(r.old.templates.map((t) => t.name)).toEqual(['native.echo', 'native.counter', 'native.sink', 'native.clock']);
  });

  it('a mutant that registers an id twice: a registration difference', async () => {
    const r = await diff(nativeRef(), await nativeMutant('native-duplicate-id'), { runs: 20 });
    expect(kinds(r), JSON.stringify(r.differences, null, 1)).toEqual(['registration']);
  });

  it('a mutant with another entrypoint name: a symbols difference, registrations not compared', async () => {
    const r = await diff(nativeRef(), await nativeMutant('native-wrong-entrypoint'), { runs: 20 });
    expect(r.differences.filter((d) => d.kind === 'symbols').map((d) => [d.name, d.old, d.new])).toEqual([
      ['reflow_pack_register', 'function', null],
      ['reflow_pack_register_v2', null, 'function'],
    ]);
    // The new build does not load (its register symbol has another name): no version, no templates.
    expect(kinds(r)).toEqual(['abi-version', 'symbols', 'symbols', 'templates', 'templates', 'templates', 'templates']);
    expect(r.differences.find((d) => d.kind === 'abi-version')!.new).toBe(null);
    expect(r.notes.join('\n')).toMatch(/new: does not load: .*reflow_pack_register/);
  });

  it.skipIf('missing' in tracker)('a mutant that leaks a rejected user_data: an ownership difference, shrunk to one rejection', async () => {
    const r = await diff(nativeRef(), await nativeMutant('native-leak-rejected'), { runs: 20 });
    expect(kinds(r), JSON.stringify(r.differences, null, 1)).toEqual(['ownership']);
    expect(r.differences[0]!.input).toMatchObject({ schedule: expect.stringMatching(/^reject call #\d+ with -?\d+$/) });
    expect(JSON.stringify(r.differences[0]!.new)).toContain('never freed by the pack (leaked)');
  });

  it('a mutant that crashes when a registration is rejected: the crash is a registration difference, packcheck goes on', async () => {
    const r = await diff(nativeRef(), await nativeMutant('native-crash-on-reject'), { runs: 10 });
    expect(kinds(r)).toEqual(['registration']);
    expect(JSON.stringify(r.differences[0]!.new)).toMatch(/crashed: the process killed with SIG(SEGV|BUS)/);
  });
});
