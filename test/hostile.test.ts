// The harness survives what it tests: traps, hangs, wild pointers, missing
// exports and unprovided imports all end as failed results with a clear
// message; the run goes on and the report is complete.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WASM_PROPERTY_IDS } from '../properties/catalog.ts';
import { buildMutant, watToWasm } from '../packs-under-test/build.ts';
import { MUTANTS } from '../packs-under-test/manifest.ts';
import { check, rustc } from './support/check.ts';
import { notAPackLine, resultLines } from '../harness/report/terminal.ts';

const tmp = mkdtempSync(join(tmpdir(), 'packcheck-hostile-'));
const mutant = (name: string) => buildMutant(MUTANTS.find((m) => m.name === name)!, null).then((p) => p!);
const byId = (rep: Awaited<ReturnType<typeof check>>, id: string) => rep.results.filter((r) => r.id === id);

describe('hostile packs', () => {
  it('a wasm module that is not a Reflow pack (a WASI-style plugin) gets one verdict: wasm.shape.exports, the rest blocked by it', async () => {
    const f = join(tmp, 'wasi-plugin.wasm');
    writeFileSync(f, await watToWasm('(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))'));
    const rep = await check(f);
    const shape = byId(rep, 'wasm.shape.exports')[0]!;
    expect(shape.status).toBe('failed');
    expect(shape.message).toMatch(/export "__reflow_pack_actor_run" is missing/);
    expect(shape.message).toMatch(/import "env.__reflow_pack_register_template" is missing/);
    expect(rep.results.filter((r) => r.status === 'failed').map((r) => r.id)).toEqual(['wasm.shape.exports']);
    // Instantiation itself is evaluated (it needs no export) and passes; everything else is blocked.
    expect(byId(rep, 'wasm.load.instantiate')[0]!.status).toBe('passed');
    const others = rep.results.filter((r) => r.id !== 'wasm.shape.exports' && r.id !== 'wasm.load.instantiate');
    expect(others.length).toBe(WASM_PROPERTY_IDS.length - 2);
    for (const r of others) {
      expect(r.status).toBe('skipped');
      expect(r.blockedBy).toBe('wasm.shape.exports');
      expect(r.message).toMatch(/the pack lacks (__)?reflow_pack_/);
    }
    expect(notAPackLine(rep)).toMatch(/does not look like a Reflow pack/);
    expect(resultLines(rep.results).join('\n')).toMatch(new RegExp(`${others.length} properties blocked by wasm\\.shape\\.exports`));
    expect(rep.exitCode).toBe(1);
  });

  it('a hanging export is cut off at --timeout-ms, reported as harness.timeout, and the run goes on', async () => {
    const rep = await check(await mutant('wat-destroy-unknown-hangs'), { timeoutMs: 1000 });
    const timeouts = byId(rep, 'harness.timeout');
    expect(timeouts.length).toBeGreaterThan(0);
    for (const t of timeouts) {
      expect(t.status).toBe('failed');
      expect(t.message).toMatch(/^during wasm\.[a-z.-]+: __reflow_pack_destroy_actor\(\d+\) did not return within 1000 ms/);
    }
    // The property in progress fails too, and every other property still has its result.
    expect(byId(rep, 'wasm.instance.destroy')[0]!.status).toBe('failed');
    expect(rep.results.filter((r) => !r.id.startsWith('harness.')).map((r) => r.id)).toEqual([...WASM_PROPERTY_IDS]);
    expect(byId(rep, 'wasm.run.valid-payload')[0]!.status).toBe('passed');
    expect(rep.exitCode).toBe(1);
  });

  it('traps become failures that name the call, never harness errors', async () => {
    const rep = await check(await mutant('wat-run-traps'), { only: ['wasm.run', 'wasm.instance.model'] });
    const r = byId(rep, 'wasm.run.valid-payload')[0]!;
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/__reflow_pack_actor_run\(.*\) trapped: unreachable/);
    expect(rep.results.filter((x) => x.status === 'errored')).toEqual([]);
  });

  it('a wild pointer from alloc is a failed property, not a RangeError; what cannot place its blocks is blocked by it', async () => {
    const rep = await check(await mutant('wat-alloc-wild-pointer'));
    expect(byId(rep, 'wasm.alloc.bounds')[0]!.message).toMatch(/returned: 2147483640 \(the block would end at/);
    const large = byId(rep, 'wasm.run.large-payload')[0]!;
    expect(large.status).toBe('skipped');
    expect(large.blockedBy).toBe('wasm.alloc.bounds');
    expect(large.message).toMatch(/past the end of memory/);
    expect(rep.results.filter((x) => x.status === 'errored')).toEqual([]);
  });

  it('an import the harness does not provide is listed and fails the property that calls it', async () => {
    const rep = await check(await mutant('wat-unprovided-import'), { only: ['wasm.run.valid-payload', 'wasm.shape.exports'] });
    expect(rep.pack.imports).toEqual(['env.__reflow_pack_register_template', 'wbg.__wbindgen_throw']);
    expect(byId(rep, 'wasm.shape.exports')[0]!.status).toBe('passed');
    expect(byId(rep, 'wasm.run.valid-payload')[0]!.message).toMatch(/called its import "wbg.__wbindgen_throw", which packcheck does not provide/);
  });
});

describe('determinism and replay', () => {
  const strip = (rep: Awaited<ReturnType<typeof check>>) => rep.results.map(({ durationMs: _d, ...r }) => r);

  it('the same seed gives the same results and counterexamples', async () => {
    const path = await mutant('wat-version-unstable');
    const only = ['abi.version', 'wasm.alloc.disjoint', 'wasm.instance.model', 'wasm.run.valid-payload', 'wasm.run.bad-shape'];
    const a = await check(path, { seed: 99, only });
    const b = await check(path, { seed: 99, only });
    expect(strip(a)).toEqual(strip(b));
  });

  it.each(['wat-version-unstable', 'wat-alloc-zero-block', ...(rustc ? ['rust-instance-table-evicts'] : [])])('the replay line of %s reproduces exactly that failure', async (name) => {
    const spec = MUTANTS.find((m) => m.name === name)!;
    const path = (await buildMutant(spec, rustc))!;
    const first = await check(path, { only: [...spec.mustFail] });
    const failed = first.results.find((r) => r.status === 'failed' && r.path)!;
    expect(failed.replay).toContain(`--path ${failed.path}`);
    const again = await check(path, { only: [failed.id], seed: failed.seed, path: failed.path });
    const r = again.results[0]!;
    expect(r.status).toBe('failed');
    expect(r.message).toBe(failed.message);
    expect(r.counterexample).toEqual(failed.counterexample);
  });
});
