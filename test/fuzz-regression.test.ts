// Regression mode, `packcheck PACK --inputs DIR`: saved fuzz inputs replayed
// through the oracles as part of a normal check. The stateful target's
// defect needs three ticks in order, which the battery's runs never send:
// the plain check passes wasm.alloc.integrity, with the saved input it fails
// it, naming the file and how to replay it.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWat, WAT_REFERENCE } from '../packs-under-test/build.ts';
import { buildFuzzTarget } from './fuzz-targets.ts';
import { cli } from './fuzz-support.ts';

interface Report {
  results: { id: string; status: string; message?: string; counterexample?: unknown; replay?: string }[];
  exitCode: number;
}

const tick = (n: number) => `{"input":{"in":{"type":"Integer","data":${n}}}}`;
const STATEFUL = { template: 'wat.echo', ticks: [tick(17), tick(42), tick(99)] };

function savedDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-inputs-'));
  // A corpus file (a bare input), an artifact (the input under "input"), and a file that is neither.
  writeFileSync(join(dir, 'a-stateful.json'), JSON.stringify({ schema: 'packcheck/fuzz-artifact@1', id: 'wasm.alloc.integrity', message: '…', input: STATEFUL }));
  writeFileSync(join(dir, 'b-harmless.json'), JSON.stringify({ template: 'wat.echo', ticks: [tick(17), tick(42)] }));
  writeFileSync(join(dir, 'notes.json'), '{"not": "an input"}');
  return dir;
}

async function check(pack: string, ...args: string[]): Promise<{ code: number; stderr: string; report: Report }> {
  const out = mkdtempSync(join(tmpdir(), 'pc-inputs-json-'));
  const json = join(out, 'r.json');
  const r = await cli(pack, '--runs', '30', '--seed', '1', '-q', '--only', 'wasm.alloc.integrity,wasm.run.valid-payload', '--json', json, ...args);
  return { code: r.code, stderr: r.stderr, report: JSON.parse(readFileSync(json, 'utf8')) as Report };
}

describe('packcheck PACK --inputs DIR', () => {
  it('the plain battery passes the stateful target; with the saved input it fails wasm.alloc.integrity, naming the file, with the input and its replay line', async () => {
    const pack = await buildFuzzTarget('stateful');
    const dir = savedDir();
    const plain = await check(pack);
    expect(plain.code).toBe(0);
    expect(plain.report.results.find((r) => r.id === 'wasm.alloc.integrity')!.status).toBe('passed');

    const withInputs = await check(pack, '--inputs', dir);
    expect(withInputs.code).toBe(1);
    const failing = withInputs.report.results.filter((r) => r.status === 'failed');
    expect(failing.map((r) => r.id)).toEqual(['wasm.alloc.integrity']);
    const r = failing[0]!;
    expect(r.message).toContain(`input: ${join(dir, 'a-stateful.json')}`);
    expect(r.message).toContain('the payload block');
    expect(r.counterexample).toEqual(STATEFUL);
    expect(r.replay).toBe(`packcheck replay ${pack} ${join(dir, 'a-stateful.json')}`);
    // The replay line reproduces it.
    const replay = await cli('replay', pack, join(dir, 'a-stateful.json'));
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('FAIL  wasm.alloc.integrity');
  }, 120_000);

  it('the reference pack passes the same inputs', async () => {
    const pack = await buildWat(WAT_REFERENCE, 'wat-reference');
    const r = await check(pack, '--inputs', savedDir());
    expect(r.code).toBe(0);
    expect(r.report.results.every((x) => x.status === 'passed')).toBe(true);
  }, 60_000);

  it('a native pack, a missing directory, or several packs: exit 2 with one line', async () => {
    const pack = await buildWat(WAT_REFERENCE, 'wat-reference');
    const empty = mkdtempSync(join(tmpdir(), 'pc-inputs-'));
    mkdirSync(join(empty, 'sub'));
    for (const args of [[process.execPath, '--inputs', empty], [pack, '--inputs', join(empty, 'missing')], [pack, pack, '--inputs', empty]]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 60_000);
});
