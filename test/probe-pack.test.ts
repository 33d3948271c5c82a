// Probe packs (harness/hosts/js/probe-pack.ts): each scripted behaviour,
// checked by instantiating the probe directly and calling its exports.
import { describe, expect, it } from 'vitest';
import { BAD_METADATA, badMetadataBytes, buildProbe, decoyName, echoOutputs, PROBE_CANARY_BYTES, PROBE_HIGH_PAGES, probeWat, type ProbeScenario } from '../harness/hosts/js/probe-pack.ts';
import { highMemoryUnavailable } from '../properties/host.ts';

interface ProbeExports {
  memory: WebAssembly.Memory;
  reflow_pack_abi_version(): number;
  __reflow_pack_register(): number;
  __reflow_pack_alloc(size: number): number;
  __reflow_pack_free(ptr: number, size: number): void;
  __reflow_pack_create_actor(factory: number): number;
  __reflow_pack_destroy_actor(id: number): void;
  __reflow_pack_actor_run(id: number, payloadPtr: number, payloadLen: number, outPtrPtr: number, outLenPtr: number): number;
}

interface Registration {
  meta: string;
  factory: number;
}

async function probe(s: ProbeScenario) {
  const module = await buildProbe(s);
  const registrations: Registration[] = [];
  let memory: WebAssembly.Memory | null = null;
  const recorder = (ptr: number, len: number, factory: number) => {
    const bytes = new Uint8Array(memory!.buffer, ptr >>> 0, len >>> 0);
    registrations.push({ meta: new TextDecoder('utf-8', { fatal: true }).decode(bytes), factory });
  };
  const instance = new WebAssembly.Instance(module, { env: { __reflow_pack_register_template: recorder } });
  const x = instance.exports as unknown as ProbeExports;
  memory = x.memory;
  return { x, registrations };
}

const u32 = (x: ProbeExports, addr: number) => new DataView(x.memory.buffer).getUint32(addr, true);

/** One tick: payload and slots from the exported alloc, as a host would. */
function tick(x: ProbeExports, id: number, payload: string) {
  const bytes = new TextEncoder().encode(payload);
  const p = x.__reflow_pack_alloc(bytes.length || 1) >>> 0;
  expect(p).not.toBe(0);
  new Uint8Array(x.memory.buffer).set(bytes, p);
  const slots = x.__reflow_pack_alloc(8) >>> 0;
  expect(slots).not.toBe(0);
  // poison the slots so "written" is observable
  new DataView(x.memory.buffer).setUint32(slots, 0xdeadbeef, true);
  new DataView(x.memory.buffer).setUint32(slots + 4, 0xdeadbeef, true);
  const status = x.__reflow_pack_actor_run(id, p, bytes.length, slots, slots + 4);
  const outPtr = u32(x, slots);
  const outLen = u32(x, slots + 4);
  return { status, outPtr, outLen, payloadPtr: p, payloadLen: bytes.length, memBytes: x.memory.buffer.byteLength };
}

describe('probe pack: shape and registration', () => {
  it('exports the wasm ABI, with 2 initial pages and the ABI version 2522422', async () => {
    const module = await buildProbe({ templates: ['a'] });
    const exports = WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort();
    expect(exports).toEqual(
      [
        'memory:memory',
        'reflow_pack_abi_version:function',
        '__reflow_pack_register:function',
        '__reflow_pack_alloc:function',
        '__reflow_pack_free:function',
        '__reflow_pack_create_actor:function',
        '__reflow_pack_destroy_actor:function',
        '__reflow_pack_actor_run:function',
      ].sort(),
    );
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: '__reflow_pack_register_template', kind: 'function' }]);
    const { x } = await probe({ templates: ['a'] });
    expect(x.memory.buffer.byteLength).toBe(2 * 65536);
    expect(x.reflow_pack_abi_version() >>> 0).toBe(2522422);
    expect(x.reflow_pack_abi_version() >>> 0).toBe(2522422);
  });

  it('registers every template in order, duplicates and awkward names included, with dense factory ids', async () => {
    const names = ['alpha', 'beta', 'alpha', 'quo"te\\back\nslash', 'ünï✓'];
    const { x, registrations } = await probe({ templates: names });
    expect(registrations).toEqual([]);
    expect(x.__reflow_pack_register()).toBe(0);
    expect(registrations.map((r) => r.factory)).toEqual([0, 1, 2, 3, 4]);
    const metas = registrations.map((r) => JSON.parse(r.meta));
    expect(metas).toEqual(names.map((name) => ({ name, inports: ['in'], outports: ['out'] })));
  });

  it('registers nothing for an empty template list, and returns 0', async () => {
    const { x, registrations } = await probe({ templates: [] });
    expect(x.__reflow_pack_register()).toBe(0);
    expect(registrations).toEqual([]);
    expect(x.__reflow_pack_create_actor(0)).toBe(0);
  });
});

describe('probe pack: exported alloc', () => {
  it('hands out 8-aligned blocks with at least 2 gaps of 16 bytes between consecutive blocks', async () => {
    expect(PROBE_CANARY_BYTES).toBe(16);
    const { x } = await probe({ templates: ['a'] });
    const sizes = [1, 7, 8, 9, 100, 3, 4096, 1, 13];
    const blocks = sizes.map((n) => ({ ptr: x.__reflow_pack_alloc(n) >>> 0, size: n }));
    for (const b of blocks) {
      expect(b.ptr).not.toBe(0);
      expect(b.ptr % 8).toBe(0);
      expect(b.ptr).toBeGreaterThanOrEqual(PROBE_CANARY_BYTES);
      expect(b.ptr + b.size + PROBE_CANARY_BYTES).toBeLessThanOrEqual(x.memory.buffer.byteLength);
    }
    for (let i = 1; i < blocks.length; i++) {
      const prev = blocks[i - 1]!;
      expect(blocks[i]!.ptr - (prev.ptr + prev.size)).toBeGreaterThanOrEqual(2 * PROBE_CANARY_BYTES);
    }
  });

  it('never reuses memory: free is a no-op and the next block is fresh', async () => {
    const { x } = await probe({ templates: ['a'] });
    const a = x.__reflow_pack_alloc(32);
    x.__reflow_pack_free(a, 32);
    const b = x.__reflow_pack_alloc(32);
    expect(b - (a + 32)).toBeGreaterThanOrEqual(2 * PROBE_CANARY_BYTES);
  });

  it('keeps its own result blocks clear of the gaps of host blocks', async () => {
    const { x } = await probe({ templates: ['a'] });
    const id = x.__reflow_pack_create_actor(0);
    const t = tick(x, id, '{"input":{}}'); // payload block, slot block, then the result
    expect(t.outPtr % 8).toBe(0);
    // the result comes after the payload block and its gap
    expect(t.outPtr - (t.payloadPtr + t.payloadLen)).toBeGreaterThanOrEqual(2 * PROBE_CANARY_BYTES);
    // and the next host block after the result and its gap
    const next = x.__reflow_pack_alloc(1);
    expect(next - (t.outPtr + t.outLen)).toBeGreaterThanOrEqual(2 * PROBE_CANARY_BYTES);
  });

  it('answers 0 for size 0 and for sizes of 2^31 and more, and for what memory cannot hold', async () => {
    const { x } = await probe({ templates: ['a'] });
    const before = x.memory.buffer.byteLength;
    expect(x.__reflow_pack_alloc(0)).toBe(0);
    expect(x.__reflow_pack_alloc(0x80000000 | 0)).toBe(0);
    expect(x.__reflow_pack_alloc(0xfffffff8 | 0)).toBe(0);
    expect(x.__reflow_pack_alloc(-1)).toBe(0);
    expect(x.memory.buffer.byteLength).toBe(before);
    expect(x.__reflow_pack_alloc(8)).not.toBe(0);
  });

  it('grows memory when a block does not fit', async () => {
    const { x } = await probe({ templates: ['a'] });
    const p = x.__reflow_pack_alloc(3 * 65536) >>> 0;
    expect(p).not.toBe(0);
    expect(x.memory.buffer.byteLength).toBeGreaterThanOrEqual(p + 3 * 65536 + PROBE_CANARY_BYTES);
    new Uint8Array(x.memory.buffer).fill(0xaa, p, p + 3 * 65536); // writable, no throw
  });

  it('allocFailsAt: the 3rd call returns 0, the others non-zero', async () => {
    const { x } = await probe({ templates: ['a'], allocFailsAt: 3 });
    const got = [1, 2, 3, 4, 5, 6].map(() => x.__reflow_pack_alloc(16));
    expect(got[2]).toBe(0);
    for (const i of [0, 1, 3, 4, 5]) expect(got[i]).not.toBe(0);
  });

  it('allocFailsAt counts size-0 calls too, and not the pack\'s own result allocations', async () => {
    const { x } = await probe({ templates: ['a'], allocFailsAt: 4 });
    expect(x.__reflow_pack_alloc(0)).toBe(0); // call 1
    const id = x.__reflow_pack_create_actor(0);
    const t = tick(x, id, '{"input":{}}'); // calls 2 and 3; the result is internal
    expect(t.status).toBe(0);
    expect(t.outPtr).not.toBe(0);
    expect(x.__reflow_pack_alloc(8)).toBe(0); // call 4
    expect(x.__reflow_pack_alloc(8)).not.toBe(0); // call 5
  });

  it('growInAlloc: every exported alloc call grows memory by exactly one page', async () => {
    const { x } = await probe({ templates: ['a'], growInAlloc: true });
    let bytes = x.memory.buffer.byteLength;
    for (const size of [8, 0, 100, 1]) {
      x.__reflow_pack_alloc(size);
      expect(x.memory.buffer.byteLength).toBe(bytes + 65536);
      bytes = x.memory.buffer.byteLength;
    }
  });

  it('without growInAlloc, small allocs do not grow memory', async () => {
    const { x } = await probe({ templates: ['a'] });
    const bytes = x.memory.buffer.byteLength;
    for (let i = 0; i < 10; i++) x.__reflow_pack_alloc(8);
    expect(x.memory.buffer.byteLength).toBe(bytes);
  });
});

describe('probe pack: instances', () => {
  it('hands out ids 1, 2, … and 0 for an unknown factory', async () => {
    const { x } = await probe({ templates: ['a', 'b'] });
    expect(x.__reflow_pack_create_actor(0)).toBe(1);
    expect(x.__reflow_pack_create_actor(1)).toBe(2);
    expect(x.__reflow_pack_create_actor(2)).toBe(0);
    expect(x.__reflow_pack_create_actor(-1)).toBe(0);
    x.__reflow_pack_destroy_actor(1);
    x.__reflow_pack_destroy_actor(999);
    expect(x.__reflow_pack_create_actor(0)).toBe(3);
  });

  it('createReturnsZero: every create answers 0', async () => {
    const { x } = await probe({ templates: ['a', 'b'], createReturnsZero: true });
    expect(x.__reflow_pack_create_actor(0)).toBe(0);
    expect(x.__reflow_pack_create_actor(1)).toBe(0);
    expect(x.__reflow_pack_create_actor(5)).toBe(0);
  });
});

describe('probe pack: run results', () => {
  it('echo: status 0 and {"out":{"type":"Integer","data":<payload_len>}} in a fresh block', async () => {
    const { x } = await probe({ templates: ['a'] });
    const id = x.__reflow_pack_create_actor(0);
    for (const payload of ['{"input":{}}', '', 'x'.repeat(1234), 'not even json']) {
      const t = tick(x, id, payload);
      expect(t.status).toBe(0);
      expect(t.outPtr).not.toBe(0);
      expect(t.outPtr + t.outLen).toBeLessThanOrEqual(t.memBytes);
      const text = new TextDecoder().decode(new Uint8Array(x.memory.buffer, t.outPtr, t.outLen));
      expect(JSON.parse(text)).toEqual(echoOutputs(payload.length));
      expect(text).toBe(`{"out":{"type":"Integer","data":${payload.length}}}`);
      expect(t.outPtr).toBeGreaterThan(t.payloadPtr);
    }
  });

  it('echo: prints payload_len as unsigned decimal (0 and 2^32-1)', async () => {
    const { x } = await probe({ templates: ['a'] });
    const slots = x.__reflow_pack_alloc(8) >>> 0;
    for (const len of [0, 9, 10, 0xffffffff]) {
      expect(x.__reflow_pack_actor_run(1, 64, len | 0, slots, slots + 4)).toBe(0);
      const ptr = u32(x, slots);
      const n = u32(x, slots + 4);
      const text = new TextDecoder().decode(new Uint8Array(x.memory.buffer, ptr, n));
      expect(JSON.parse(text)).toEqual(echoOutputs(len));
    }
  });

  it('echo: distinct results of consecutive ticks are separate blocks', async () => {
    const { x } = await probe({ templates: ['a'] });
    const a = tick(x, 1, '{}');
    const b = tick(x, 1, '{}');
    expect(b.outPtr).not.toBe(a.outPtr);
    expect(b.outPtr - (a.outPtr + a.outLen)).toBeGreaterThanOrEqual(2 * PROBE_CANARY_BYTES);
  });

  it('empty: status -4, a fresh result pointer and out_len 0', async () => {
    const { x } = await probe({ templates: ['a'], result: 'empty' });
    const t = tick(x, 1, '{"input":{}}');
    expect(t.status).toBe(-4);
    expect(t.outPtr).not.toBe(0);
    expect(t.outPtr % 8).toBe(0);
    expect(t.outLen).toBe(0);
    const t2 = tick(x, 1, '{"input":{}}');
    expect(t2.outPtr).not.toBe(t.outPtr);
  });

  it('nonjson-error: status -4 and the 10 bytes `not json {`', async () => {
    const { x } = await probe({ templates: ['a'], result: 'nonjson-error' });
    const t = tick(x, 1, '{"input":{}}');
    expect(t.status).toBe(-4);
    expect(t.outLen).toBe(10);
    const text = new TextDecoder().decode(new Uint8Array(x.memory.buffer, t.outPtr, t.outLen));
    expect(text).toBe('not json {');
    expect(() => JSON.parse(text)).toThrow();
  });

  it('oob-ptr: status 0, out_ptr 4 bytes before the end of memory, out_len 100', async () => {
    const { x } = await probe({ templates: ['a'], result: 'oob-ptr' });
    const t = tick(x, 1, '{"input":{}}');
    expect(t.status).toBe(0);
    expect(t.outPtr).toBe(t.memBytes - 4);
    expect(t.outLen).toBe(100);
    expect(t.outPtr + t.outLen).toBeGreaterThan(t.memBytes);
  });

  it('oob-ptr with growInRun: out_ptr follows the grown memory', async () => {
    const { x } = await probe({ templates: ['a'], result: 'oob-ptr', growInRun: true });
    const before = x.memory.buffer.byteLength;
    const t = tick(x, 1, '{}');
    expect(t.memBytes).toBe(before + 65536);
    expect(t.outPtr).toBe(t.memBytes - 4);
  });

  it('overflow-len: status 0, out_ptr 16, out_len 0xFFFFFFF8 (the sum wraps in u32)', async () => {
    const { x } = await probe({ templates: ['a'], result: 'overflow-len' });
    const t = tick(x, 1, '{"input":{}}');
    expect(t.status).toBe(0);
    expect(t.outPtr).toBe(16);
    expect(t.outLen).toBe(0xfffffff8);
    expect((t.outPtr + t.outLen) >>> 0).toBeLessThan(t.outPtr);
  });

  it('growInRun: every run grows memory by exactly one page', async () => {
    const { x } = await probe({ templates: ['a'], growInRun: true });
    const slots = x.__reflow_pack_alloc(8) >>> 0;
    let bytes = x.memory.buffer.byteLength;
    for (let i = 0; i < 3; i++) {
      expect(x.__reflow_pack_actor_run(1, 64, 2, slots, slots + 4)).toBe(0);
      expect(x.memory.buffer.byteLength).toBe(bytes + 65536);
      bytes = x.memory.buffer.byteLength;
    }
  });

  it('without growInRun, run does not grow memory', async () => {
    const { x } = await probe({ templates: ['a'] });
    const slots = x.__reflow_pack_alloc(8) >>> 0;
    const bytes = x.memory.buffer.byteLength;
    for (let i = 0; i < 3; i++) x.__reflow_pack_actor_run(1, 64, 2, slots, slots + 4);
    expect(x.memory.buffer.byteLength).toBe(bytes);
  });

  it('never traps on out slots outside memory (the writes are skipped)', async () => {
    for (const result of ['echo', 'empty', 'nonjson-error', 'oob-ptr', 'overflow-len'] as const) {
      const { x } = await probe({ templates: ['a'], result });
      const end = x.memory.buffer.byteLength;
      expect(() => x.__reflow_pack_actor_run(1, -1, -1, end - 2, -4)).not.toThrow();
      expect(() => x.__reflow_pack_actor_run(0, 0, 0, -1, -1)).not.toThrow();
    }
  });

  it('writes the slots unaligned', async () => {
    const { x } = await probe({ templates: ['a'] });
    const blk = x.__reflow_pack_alloc(16);
    expect(x.__reflow_pack_actor_run(1, 64, 5, blk + 1, blk + 7)).toBe(0);
    const ptr = u32(x, blk + 1);
    const len = u32(x, blk + 7);
    const text = new TextDecoder().decode(new Uint8Array(x.memory.buffer, ptr, len));
    expect(JSON.parse(text)).toEqual(echoOutputs(5));
  });
});

describe('probe pack: building', () => {
  it('buildProbe caches: the same Module for the same scenario, another for a different one', async () => {
    const s: ProbeScenario = { templates: ['cache.me'], result: 'empty' };
    const a = await buildProbe(s);
    const b = await buildProbe({ templates: ['cache.me'], result: 'empty' });
    expect(b).toBe(a);
    const c = await buildProbe({ templates: ['cache.me'], result: 'echo' });
    expect(c).not.toBe(a);
    expect(await buildProbe({ templates: ['cache.me'] })).toBe(c); // the default is 'echo'
  });

  it('probeWat is deterministic text and rejects a bad scenario', () => {
    const s: ProbeScenario = { templates: ['a', 'b'], allocFailsAt: 2, growInRun: true };
    expect(probeWat(s)).toBe(probeWat({ ...s }));
    expect(probeWat(s)).toContain('(module');
    expect(() => probeWat({ templates: ['a'], allocFailsAt: 0 })).toThrow();
    expect(() => probeWat({ templates: ['a'], result: 'nope' as never })).toThrow();
  });

  it('fits many templates with long names (memory grows past the data)', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `t${i}.${'n'.repeat(400)}`);
    const { x, registrations } = await probe({ templates: names });
    expect(x.__reflow_pack_register()).toBe(0);
    expect(registrations.map((r) => JSON.parse(r.meta).name)).toEqual(names);
    expect(x.__reflow_pack_create_actor(299)).toBe(1);
    expect(x.__reflow_pack_create_actor(300)).toBe(0);
    expect(x.__reflow_pack_alloc(8) % 8).toBe(0);
  });
});

/** A probe instantiated with a register import that keeps the raw metadata bytes, read at the pointer as u32. */
async function rawProbe(s: ProbeScenario) {
  const module = await buildProbe(s);
  const regs: { ptr: number; bytes: Uint8Array; signedRead: Uint8Array; factory: number }[] = [];
  let memory: WebAssembly.Memory | null = null;
  const instance = new WebAssembly.Instance(module, {
    env: {
      __reflow_pack_register_template(ptr: number, len: number, factory: number) {
        const m = new Uint8Array(memory!.buffer);
        regs.push({ ptr: ptr >>> 0, bytes: m.slice(ptr >>> 0, (ptr >>> 0) + len), signedRead: m.slice(ptr | 0, (ptr | 0) + len), factory });
      },
    },
  });
  const x = instance.exports as unknown as ProbeExports;
  memory = x.memory;
  return { x, regs };
}

describe('probe pack: status-0 results that are not outputs', () => {
  it('nonjson-success: status 0 and the 10 bytes `not json {`, freshly allocated', async () => {
    const { x } = await probe({ templates: ['a'], result: 'nonjson-success' });
    x.__reflow_pack_register();
    const t = tick(x, x.__reflow_pack_create_actor(0), '{"input":{}}');
    expect([t.status, t.outLen]).toEqual([0, 10]);
    expect(new TextDecoder().decode(new Uint8Array(x.memory.buffer, t.outPtr, t.outLen))).toBe('not json {');
    expect(t.outPtr).toBeGreaterThan(t.payloadPtr);
  });

  it('json-nonobject: status 0 and the JSON array [1,2]', async () => {
    const { x } = await probe({ templates: ['a'], result: 'json-nonobject' });
    x.__reflow_pack_register();
    const t = tick(x, x.__reflow_pack_create_actor(0), '{"input":{}}');
    expect(t.status).toBe(0);
    expect(JSON.parse(new TextDecoder().decode(new Uint8Array(x.memory.buffer, t.outPtr, t.outLen)))).toEqual([1, 2]);
  });
});

describe('probe pack: bad registration metadata', () => {
  for (const kind of BAD_METADATA) {
    it(`${kind}: the templates first, then one registration with those bytes and the next factory id, which create_actor accepts`, async () => {
      const { x, regs } = await rawProbe({ templates: ['a'], badMetadata: kind });
      expect(x.__reflow_pack_register()).toBe(0);
      expect(regs.map((r) => r.factory)).toEqual([0, 1]);
      expect(JSON.parse(new TextDecoder().decode(regs[0]!.bytes))).toEqual({ name: 'a', inports: ['in'], outports: ['out'] });
      expect(regs[1]!.bytes).toEqual(badMetadataBytes(kind));
      expect(x.__reflow_pack_create_actor(1)).toBe(1);
      expect(x.__reflow_pack_create_actor(2)).toBe(0);
    });
  }

  it('each kind is unusable: not strict UTF-8, not JSON, or no non-empty string name', () => {
    const usable = (b: Uint8Array) => {
      try {
        const m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
        return typeof m?.name === 'string' && m.name !== '';
      } catch {
        return false;
      }
    };
    expect(BAD_METADATA.map((k) => usable(badMetadataBytes(k)))).toEqual(BAD_METADATA.map(() => false));
  });
});

describe.skipIf(highMemoryUnavailable() !== null)('probe pack: memory above 2 GiB', () => {
  it('registers from 2^31 + 64, with a decoy where a signed reading of the pointer wraps to', async () => {
    const { x, regs } = await rawProbe({ templates: ['probe.echo'], highMemory: true });
    expect(x.memory.buffer.byteLength).toBe(PROBE_HIGH_PAGES * 65536);
    expect(x.__reflow_pack_register()).toBe(0);
    expect(regs.map((r) => r.ptr)).toEqual([2 ** 31 + 64]);
    expect(JSON.parse(new TextDecoder().decode(regs[0]!.bytes)).name).toBe('probe.echo');
    expect(JSON.parse(new TextDecoder().decode(regs[0]!.signedRead)).name).toBe(decoyName('probe.echo'));
  });

  it('hands out blocks and results above 2 GiB, and echoes', async () => {
    const { x } = await rawProbe({ templates: ['probe.echo'], highMemory: true });
    x.__reflow_pack_register();
    const t = tick(x, x.__reflow_pack_create_actor(0), '{"input":{}}');
    expect(t.payloadPtr).toBeGreaterThan(2 ** 31);
    expect(t.outPtr).toBeGreaterThan(2 ** 31);
    expect([t.status, JSON.parse(new TextDecoder().decode(new Uint8Array(x.memory.buffer, t.outPtr, t.outLen)))]).toEqual([0, echoOutputs(12)]);
  });
});
