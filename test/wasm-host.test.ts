// The checked wasm host in this process (the battery runs it in worker
// threads): a tick's bookkeeping, and each thing it notices about a pack that
// misbehaves — out-of-bounds and overlapping blocks, scribbled host-held
// blocks, results outside memory or on a host block, traps, missing exports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HarnessRefusal, PackTrap } from '../harness/abi/errors.ts';
import { CallGuard, newGuardBuffer } from '../harness/kernel/call-guard.ts';
import { CheckedWasmHost, describeTickCall, RunStatus } from '../harness/hosts/wasm/wasm-host.ts';
import { decodeRegistration } from '../harness/abi/registration.ts';
import { WAT_REFERENCE, watToWasm } from '../packs-under-test/build.ts';

const compile = async (text: string) => new WebAssembly.Module((await watToWasm(text)) as Uint8Array<ArrayBuffer>);
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);

// A pack whose answers the test picks by argument: alloc(999) is past memory,
// alloc(777) is always at 1024, alloc(333) fails (0), alloc(555) is unaligned; run on instance 1
// scribbles on its payload, 2 answers a result outside memory, 3 a result on
// its payload block, 4 traps; 5 answers an empty result.
const EVIL = `(module
  (import "env" "__reflow_pack_register_template" (func $reg (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 2048) "{\\"name\\":\\"evil\\",\\"inports\\":[],\\"outports\\":[]}")
  (data (i32.const 4096) "ok")
  (global $bump (mut i32) (i32.const 8192))
  (func (export "reflow_pack_abi_version") (result i32) i32.const 7)
  (func (export "__reflow_pack_register") (result i32) (call $reg (i32.const 2048) (i32.const 42) (i32.const 3)) i32.const 0)
  (func (export "__reflow_pack_alloc") (param $n i32) (result i32) (local $p i32)
    (if (i32.eq (local.get $n) (i32.const 999)) (then (return (i32.const 65528))))
    (if (i32.eq (local.get $n) (i32.const 777)) (then (return (i32.const 1024))))
    (if (i32.eq (local.get $n) (i32.const 555)) (then (return (i32.const 1028))))
    (if (i32.eq (local.get $n) (i32.const 333)) (then (return (i32.const 0))))
    (local.set $p (global.get $bump))
    (global.set $bump (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 15)) (i32.const -8)))
    (local.get $p))
  (func (export "__reflow_pack_free") (param i32 i32))
  (func (export "__reflow_pack_create_actor") (param $f i32) (result i32) (i32.add (local.get $f) (i32.const 1)))
  (func (export "__reflow_pack_destroy_actor") (param i32))
  (func (export "__reflow_pack_actor_run") (param $i i32) (param $p i32) (param $n i32) (param $op i32) (param $ol i32) (result i32)
    (i32.store (local.get $op) (i32.const 4096))
    (i32.store (local.get $ol) (i32.const 2))
    (if (i32.eq (local.get $i) (i32.const 1)) (then (i32.store8 (local.get $p) (i32.const 0x21))))
    (if (i32.eq (local.get $i) (i32.const 2)) (then (i32.store (local.get $op) (i32.const 65000)) (i32.store (local.get $ol) (i32.const 1000))))
    (if (i32.eq (local.get $i) (i32.const 3)) (then (i32.store (local.get $op) (local.get $p))))
    (if (i32.eq (local.get $i) (i32.const 4)) (then unreachable))
    (if (i32.eq (local.get $i) (i32.const 5)) (then (i32.store (local.get $ol) (i32.const 0))))
    i32.const 0))`;

describe('CheckedWasmHost on the WAT reference pack', () => {
  it('register, create, run, destroy: the ledger holds the registrations, instances and no block after a tick', async () => {
    const host = CheckedWasmHost.instantiate(await compile(readFileSync(WAT_REFERENCE, 'utf8')));
    expect(host.register()).toBe(0);
    expect(host.ledger.registrations.length).toBeGreaterThan(0);
    const d = decodeRegistration(host.ledger.registrations[0]!, 'sdk');
    expect('template' in d).toBe(true);
    const id = host.create(host.ledger.registrations[0]!.factoryId);
    expect(id).not.toBe(0);
    expect(host.ledger.liveInstances.has(id)).toBe(true);
    const tick = host.run(id, utf8('{"input":{}}'));
    expect(tick.allocFailed).toBeUndefined();
    expect(tick.resultInBounds).toBe(true);
    expect(tick.result).not.toBeNull();
    expect(() => JSON.parse(text(tick.result)!)).not.toThrow();
    expect(host.ledger.blocks).toEqual([]);
    expect(host.ledger.hostHeldBytes).toBe(0);
    expect(host.ledger.findings).toEqual([]);
    expect(describeTickCall(tick)).toBe(`__reflow_pack_actor_run(instance=${id}, payload_ptr=${tick.payloadPtr}, payload_len=12, out_ptr_ptr=${tick.slotPtr}, out_len_ptr=${tick.slotPtr + 4})`);
    host.destroy(id);
    expect(host.ledger.liveInstances.has(id)).toBe(false);
    expect(host.ledger.deadInstances.has(id)).toBe(true);
    expect(host.run(id, utf8('{"input":{}}')).status).toBe(RunStatus.UnknownInstance);
    // A live block is filled with a pattern and stays host-held until freed.
    const b = host.alloc(100, 'probe')!;
    expect(host.ledger.blocks).toEqual([b]);
    expect(host.mem().subarray(b.ptr, b.ptr + 100)).toEqual(b.expected);
    host.free(b);
    expect(host.ledger.blocks).toEqual([]);
    expect(host.ledger.calls).toBeGreaterThan(8);
  });

  it('an empty payload is sent as length 0 over a one-byte block; a timeline is sampled when asked', async () => {
    const host = CheckedWasmHost.instantiate(await compile(readFileSync(WAT_REFERENCE, 'utf8')));
    host.register();
    host.ledger.sampleEvery = 1;
    const before = host.ledger.calls;
    const id = host.create(host.ledger.registrations[0]!.factoryId);
    const tick = host.run(id, new Uint8Array());
    expect(tick.payload.length).toBe(0);
    expect(tick.status).not.toBe(RunStatus.Ok);
    expect(host.ledger.timeline.length).toBe(host.ledger.calls - before);
    expect(host.ledger.timeline.at(-1)!.memBytes).toBe(host.memBytes);
  });
});

describe('CheckedWasmHost on a misbehaving pack', () => {
  it('calls and values: abi version, registration copied at call time, create answers', async () => {
    const host = CheckedWasmHost.instantiate(await compile(EVIL));
    expect(host.abiVersion()).toBe(7);
    expect(host.register()).toBe(0);
    expect(host.ledger.registrations).toEqual([{ index: 0, ptr: 2048, len: 42, factoryId: 3, bytes: utf8('{"name":"evil","inports":[],"outports":[]}') }]);
    expect(host.create(4)).toBe(5);
    expect(host.allocRaw(16)).toBe(8192);
    expect(host.alloc(333, 'none')).toBeNull();
  });

  it('a block past memory is refused; an unaligned one is noted; an overlapping one is wasm.alloc.disjoint', async () => {
    const host = CheckedWasmHost.instantiate(await compile(EVIL));
    let e: unknown;
    try {
      host.alloc(999, 'x');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(HarnessRefusal);
    expect((e as HarnessRefusal).message).toBe('__reflow_pack_alloc(999) returned 65528, a block that ends at 66527, past the end of memory (65536 bytes)');
    expect(host.ledger.firstFinding('alloc-bounds')?.detail).toMatch(/returned 65528: the block ends at 66527, past memory/);

    const b = host.alloc(555, 'unaligned')!;
    expect(b.ptr).toBe(1028);
    expect(host.ledger.findings.at(-1)).toEqual({ kind: 'alloc-bounds', call: '__reflow_pack_alloc(555)', detail: 'returned 1028: not 8-aligned' });

    try {
      host.alloc(777, 'second');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HarnessRefusal);
      expect((err as HarnessRefusal).owner).toBe('wasm.alloc.disjoint');
      expect((err as Error).message).toMatch(/returned: returned \[1024, 1801\), which overlaps the host-held unaligned block \[1028, 1583\) from allocation #1/);
    }
    expect(host.ledger.firstFinding('overlap')?.call).toBe('__reflow_pack_alloc(777)');
  });

  it('a scribble on a host-held block is an integrity finding naming the offset and bytes', async () => {
    const host = CheckedWasmHost.instantiate(await compile(EVIL));
    const tick = host.run(1, utf8('hello'));
    expect(tick.status).toBe(0);
    expect(text(tick.result)).toBe('ok');
    const f = host.ledger.firstFinding('integrity')!;
    expect(f.call).toBe(`__reflow_pack_actor_run(1, ${tick.payloadPtr}, 5, ${tick.slotPtr}, ${tick.slotPtr + 4})`);
    expect(f.detail).toBe(`the payload block [${tick.payloadPtr}, ${tick.payloadPtr + 5}) changed at offset 0: byte 0x68 became 0x21`);
    expect(host.ledger.findings.filter((x) => x.kind === 'integrity')).toHaveLength(1);
  });

  it('a result outside memory is not copied or freed; a result on a host block is an overlap', async () => {
    const host = CheckedWasmHost.instantiate(await compile(EVIL));
    const out = host.run(2, utf8('x'));
    expect(out).toMatchObject({ outPtr: 65000, outLen: 1000, resultInBounds: false, result: null });
    expect(host.ledger.firstFinding('result-bounds')?.detail).toBe('the result [65000, 66000) lies outside memory (65536 bytes)');

    const on = host.run(3, utf8('abc'));
    expect(on.resultInBounds).toBe(true);
    expect(on.resultOverlaps?.label).toBe('payload');
    expect(host.ledger.firstFinding('overlap')?.detail).toBe(`the result [${on.payloadPtr}, ${on.payloadPtr + 2}) overlaps the host-held payload block [${on.payloadPtr}, ${on.payloadPtr + 3})`);

    const empty = host.run(5, utf8('y'));
    expect(empty).toMatchObject({ outPtr: 4096, outLen: 0, resultInBounds: true });
    expect(empty.result).toEqual(new Uint8Array());
    expect(host.ledger.highestEnd).toBeGreaterThanOrEqual(4097);
  });

  it('a trap is a PackTrap naming the call and its arguments, and the guard is left', async () => {
    const guard = new CallGuard(newGuardBuffer(), 2000);
    const host = CheckedWasmHost.instantiate(await compile(EVIL), { guard });
    try {
      host.run(4, utf8('z'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PackTrap);
      expect((e as Error).message).toMatch(/__reflow_pack_actor_run\(4, \d+, 1, \d+, \d+\)/);
      expect((e as Error).message).toMatch(/unreachable/);
    }
    // The guard was left: the next call goes through.
    expect(host.run(0, utf8('{}')).status).toBe(0);
  });

  it('missing memory is refused at instantiation; a missing function when it is called; a start trap is a PackTrap', async () => {
    await expect(compile('(module)').then((m) => CheckedWasmHost.instantiate(m))).rejects.toThrow(/does not export its memory as "memory"/);
    const host = CheckedWasmHost.instantiate(await compile('(module (memory (export "memory") 1))'));
    expect(() => host.abiVersion()).toThrow(/does not export the function "reflow_pack_abi_version"/);
    await expect(compile('(module (memory (export "memory") 1) (func $s unreachable) (start $s))').then((m) => CheckedWasmHost.instantiate(m))).rejects.toBeInstanceOf(PackTrap);
  });

  it('memory growth: mem() re-reads the grown memory', async () => {
    const host = CheckedWasmHost.instantiate(await compile('(module (memory (export "memory") 1) (func (export "reflow_pack_abi_version") (result i32) (memory.grow (i32.const 1))))'));
    const before = host.mem();
    expect(host.abiVersion()).toBe(1);
    expect(host.mem().length).toBe(2 * 65536);
    expect(before.byteLength).toBe(0);
    expect(host.memBytes).toBe(2 * 65536);
  });
});
