// The wasm section reader behind wasm.shape.exports: every section it reads,
// the signatures and memory limits it reports, and malformed input, which is
// a WasmFormatError (a LoadError) and never anything else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../harness/run/pack-file.ts';
import { readSections, Reader, WasmFormatError } from '../harness/hosts/wasm/wasm-binary.ts';
import { inspectWasm, presentCalls, readWasmShape, shapeProblems } from '../harness/hosts/wasm/wasm-shape.ts';

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;
let wabtP: Promise<Wabt> | null = null;
async function wat(text: string, features: Record<string, boolean> = {}): Promise<Uint8Array> {
  wabtP ??= import('wabt').then((m) => m.default());
  const mod = (await wabtP).parseWat('t.wat', text, features);
  try {
    mod.validate();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const bin = (...bytes: number[]) => new Uint8Array([...HEADER, ...bytes]);
/** The thrown error, which must be a WasmFormatError. */
function formatError(bytes: Uint8Array): WasmFormatError {
  try {
    readWasmShape(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(WasmFormatError);
    expect(e).toBeInstanceOf(LoadError);
    return e as WasmFormatError;
  }
  throw new Error('expected a WasmFormatError, the bytes were read');
}

const ABI_WAT = `(module
  (import "env" "__reflow_pack_register_template" (func (param i32 i32 i32)))
  (memory (export "memory") 17 300)
  (func (export "reflow_pack_abi_version") (result i32) i32.const 1)
  (func (export "__reflow_pack_register") (result i32) i32.const 0)
  (func (export "__reflow_pack_alloc") (param i32) (result i32) i32.const 0)
  (func (export "__reflow_pack_free") (param i32 i32))
  (func (export "__reflow_pack_create_actor") (param i32) (result i32) i32.const 0)
  (func (export "__reflow_pack_destroy_actor") (param i32))
  (func (export "__reflow_pack_actor_run") (param i32 i32 i32 i32 i32) (result i32) i32.const 0))`;

describe('readWasmShape: the sections', () => {
  it('an ABI-conforming module: exports with signatures, the register import, memory limits; no shape problems', async () => {
    const shape = await inspectWasm(await wat(ABI_WAT));
    expect(shape.memory).toEqual({ initialPages: 17, maxPages: 300, imported: false });
    expect(shape.imports).toEqual([{ module: 'env', name: '__reflow_pack_register_template', kind: 'function', params: ['i32', 'i32', 'i32'], results: [] }]);
    expect(shape.exports[0]).toEqual({ name: 'memory', kind: 'memory' });
    expect(shape.exports.find((e) => e.name === '__reflow_pack_actor_run')).toEqual({ name: '__reflow_pack_actor_run', kind: 'function', params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] });
    expect(shapeProblems(shape)).toEqual([]);
    expect(presentCalls(shape).size).toBe(7);
  });

  it('every import and export kind, i32/i64/f32/f64 and multi-value signatures, imported functions ahead in the index space', async () => {
    const bytes = await wat(`(module
      (type $unused (func (param f64)))
      (import "m" "f" (func (param i32 i64 f32 f64) (result f64)))
      (import "m" "g" (global $g (mut i64)))
      (import "m" "t" (table 2 funcref))
      (import "" "" (func (result i64 f32)))
      (global $own f32 (f32.const 0))
      (func $a (param i64) (result i32) i32.const 0)
      (func $b (result f32 f64) f32.const 0 f64.const 0)
      (export "imported" (func 0))
      (export "second-import" (func 1))
      (export "a" (func $a))
      (export "b" (func $b))
      (export "g" (global $g))
      (export "own" (global $own))
      (export "t" (table 0)))`);
    const shape = readWasmShape(bytes);
    expect(shape.imports).toEqual([
      { module: 'm', name: 'f', kind: 'function', params: ['i32', 'i64', 'f32', 'f64'], results: ['f64'] },
      { module: 'm', name: 'g', kind: 'global' },
      { module: 'm', name: 't', kind: 'table' },
      { module: '', name: '', kind: 'function', params: [], results: ['i64', 'f32'] },
    ]);
    expect(shape.exports).toEqual([
      { name: 'imported', kind: 'function', params: ['i32', 'i64', 'f32', 'f64'], results: ['f64'] },
      { name: 'second-import', kind: 'function', params: [], results: ['i64', 'f32'] },
      { name: 'a', kind: 'function', params: ['i64'], results: ['i32'] },
      { name: 'b', kind: 'function', params: [], results: ['f32', 'f64'] },
      { name: 'g', kind: 'global' },
      { name: 'own', kind: 'global' },
      { name: 't', kind: 'table' },
    ]);
    expect(shape.memory).toBeNull();
    // The raw sections: the unused type is counted, the function section names the defined functions' types.
    const sec = readSections(bytes);
    expect(sec.types[0]).toEqual({ params: ['f64'], results: [] });
    expect(sec.functions).toHaveLength(2);
    expect(sec.exports.map((e) => e.index)).toEqual([0, 1, 2, 3, 0, 1, 0]);
  });

  it('memory without a maximum, and an imported memory (which is memory 0)', async () => {
    expect(readWasmShape(await wat('(module (memory 3))')).memory).toEqual({ initialPages: 3, maxPages: null, imported: false });
    const imported = readWasmShape(await wat('(module (import "env" "memory" (memory 2 65536)) (export "memory" (memory 0)))'));
    expect(imported.memory).toEqual({ initialPages: 2, maxPages: 65536, imported: true });
    expect(imported.imports).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(imported.exports).toEqual([{ name: 'memory', kind: 'memory' }]);
    // A shared memory (limits flags 3), by hand: wabt's validator refuses it without the threads feature.
    const shared = readWasmShape(bin(0x02, 0x10, 0x01, 0x03, ...new TextEncoder().encode('env'), 0x06, ...new TextEncoder().encode('memory'), 0x02, 0x03, 0x01, 0x04));
    expect(shared.memory).toEqual({ initialPages: 1, maxPages: 4, imported: true });
  });

  it('memory64 limits, tags, reference types and custom sections are read too', async () => {
    const bytes = await wat(
      `(module
        (type $t (func (param i32)))
        (import "a" "tag" (tag (type $t)))
        (tag (export "e") (param i64))
        (memory (export "m") i64 1 70000)
        (func (export "r") (param externref funcref) (result externref) local.get 0))`,
      { exceptions: true, memory64: true, reference_types: true },
    );
    const shape = readWasmShape(bytes);
    expect(shape.memory).toEqual({ initialPages: 1, maxPages: 70000, imported: false });
    expect(shape.imports).toEqual([{ module: 'a', name: 'tag', kind: 'tag' }]);
    expect(shape.exports).toEqual([
      { name: 'e', kind: 'tag' },
      { name: 'm', kind: 'memory' },
      { name: 'r', kind: 'function', params: ['externref', 'funcref'], results: ['externref'] },
    ]);
    // A custom section (id 0, any number of them) is skipped.
    const custom = [0x00, 0x05, 0x01, 0x78, 0xaa, 0xbb, 0xcc];
    expect(readWasmShape(new Uint8Array([...bytes, ...custom, ...custom]))).toEqual(shape);
  });

  it('typed references and GC types: (ref null N), rec groups, structs and arrays keep the type indices right', () => {
    // type 0: rec { struct (field i8 mut), array i16 }, type 2: sub final func (param (ref null 0)) (result (ref func))
    const types = [0x02, 0x4e, 0x02, 0x5f, 0x01, 0x78, 0x01, 0x5e, 0x77, 0x00, 0x4f, 0x00, 0x60, 0x01, 0x63, 0x00, 0x01, 0x64, 0x70];
    const sec = (id: number, body: number[]) => [id, body.length, ...body];
    const bytes = bin(...sec(1, types), ...sec(3, [0x01, 0x02]), ...sec(7, [0x01, 0x01, 0x66, 0x00, 0x00]), ...sec(10, [0x01, 0x02, 0x00, 0x0b]));
    expect(readSections(bytes).types).toEqual([null, null, { params: ['(ref null 0)'], results: ['(ref func)'] }]);
    expect(readWasmShape(bytes).exports).toEqual([{ name: 'f', kind: 'function', params: ['(ref null 0)'], results: ['(ref func)'] }]);
  });

  it('a signature mismatch and a missing export are reported in the texts the reports show', async () => {
    const bytes = await wat(ABI_WAT.replace('(func (export "__reflow_pack_alloc") (param i32)', '(func (export "__reflow_pack_alloc") (param i64)').replace('(func (export "__reflow_pack_register") (result i32) i32.const 0)', ''));
    expect(shapeProblems(readWasmShape(bytes))).toEqual([
      'export "__reflow_pack_register" is missing (expected a function () -> (i32))',
      'export "__reflow_pack_alloc" has signature (i64) -> (i32), expected (i32) -> (i32)',
    ]);
  });
});

describe('readWasmShape: malformed input is a WasmFormatError, never a crash', () => {
  it('no magic number, a component version, a truncated header', () => {
    expect(formatError(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 0, 0, 0])).message).toMatch(/not a WebAssembly module/);
    expect(formatError(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00])).message).toMatch(/version 0d 00 01 00 is not 01 00 00 00/);
    expect(formatError(new Uint8Array([0x00, 0x61, 0x73])).message).toMatch(/unexpected end: the magic number needs 4 bytes, 3 are left/);
    expect(readWasmShape(bin())).toEqual({ exports: [], imports: [], memory: null });
  });

  it('every truncation of a real module that cuts a section is a WasmFormatError that says so', async () => {
    const bytes = await wat(ABI_WAT);
    // The offsets where a section ends: cutting there leaves a shorter, well-formed module.
    const ends = new Set<number>([8]);
    for (let p = 8; p < bytes.length; ) {
      const r = new Reader(bytes, p + 1);
      const size = r.uleb();
      p = r.pos + size;
      ends.add(p);
    }
    for (let n = 0; n < bytes.length; n++) {
      const cut = bytes.subarray(0, n);
      if (ends.has(n)) expect(() => readWasmShape(cut)).not.toThrow();
      else expect(formatError(cut).message).toMatch(/unexpected end|truncated|bytes are left/);
    }
  });

  it('LEB128: a u32 longer than 5 bytes or with bits past 32 is an overflow; a u64 past 2^53 cannot be counted', () => {
    // The type section's size: six bytes.
    expect(formatError(bin(0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)).message).toMatch(/at byte 9 .*the size of the type section: LEB128 longer than 5 bytes for a u32/);
    // Five bytes whose last carries more than 4 bits: 2^32.
    expect(formatError(bin(0x01, 0x80, 0x80, 0x80, 0x80, 0x10)).message).toMatch(/LEB128 value exceeds 32 bits/);
    // 2^32 - 1 is the largest u32: read, then too large for what is left.
    expect(formatError(bin(0x01, 0xff, 0xff, 0xff, 0xff, 0x0f)).message).toMatch(/the type section claims 4294967295 bytes but only 0 are left/);
    // A memory64 minimum of 2^60 pages.
    const limits = [0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
    expect(formatError(bin(0x05, limits.length + 1, 0x01, ...limits)).message).toMatch(/the minimum of a memory: .* beyond what packcheck can count exactly/);
    // A redundant but in-range encoding is fine: 3 as 0x83 0x00.
    expect(readWasmShape(bin(0x05, 0x04, 0x01, 0x00, 0x83, 0x00)).memory).toEqual({ initialPages: 3, maxPages: null, imported: false });
  });

  it('bad section contents name what is wrong and where', () => {
    const cases: [number[], RegExp][] = [
      [[0x0e, 0x00], /unknown section id 14/],
      [[0x01, 0x01, 0x00, 0x01, 0x01, 0x00], /a second type section/],
      [[0x01, 0x02, 0x01, 0x61], /unknown type form 0x61/],
      [[0x01, 0x04, 0x01, 0x60, 0x01, 0x40], /unknown value type 0x40/],
      [[0x01, 0x05, 0x01, 0x60, 0x00, 0x00, 0x00], /the type section has 1 bytes after its last entry/],
      [[0x01, 0x02, 0x05, 0x60], /the type section claims 5 entries but only 1 bytes are left/],
      [[0x02, 0x06, 0x01, 0x01, 0x61, 0x01, 0x62, 0x07], /unknown import kind 0x7 for "a.b"/],
      [[0x02, 0x05, 0x01, 0x01, 0xff, 0x00, 0x00], /an import module name is not valid UTF-8/],
      [[0x05, 0x02, 0x01, 0x08], /the limits of a memory have unknown flags 0x8/],
      [[0x07, 0x04, 0x01, 0x00, 0x05, 0x00], /unknown export kind 0x5 for ""/],
      [[0x07, 0x04, 0x01, 0x00, 0x00, 0x00], /export "" is function 0, but the module has 0 functions/],
      [[0x02, 0x07, 0x01, 0x01, 0x61, 0x01, 0x62, 0x00, 0x03], /import "a.b" refers to type 3, but the type section has 0 types/],
    ];
    for (const [body, re] of cases) expect(formatError(bin(...body)).message, body.join(' ')).toMatch(re);
    // A defined function whose type is missing is only read when exported.
    expect(formatError(bin(0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00)).message).toMatch(/export "f" refers to type 0, but the type section has 0 types/);
    // A struct type used as a function's type.
    expect(formatError(bin(0x01, 0x03, 0x01, 0x5f, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00)).message).toMatch(/which is not a function type/);
  });

  it('random bytes after the header (fast-check): read or a WasmFormatError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
        try {
          readWasmShape(bin(...tail));
        } catch (e) {
          expect(e).toBeInstanceOf(WasmFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a corrupted real module (one byte changed, fast-check): read or a WasmFormatError', async () => {
    const bytes = await wat(ABI_WAT);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), (at, b) => {
        const m = bytes.slice();
        m[at] = b;
        try {
          readWasmShape(m);
        } catch (e) {
          expect(e).toBeInstanceOf(WasmFormatError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// Modules generated from WAT: the names and kinds must be exactly what V8 sees.
const VALT = fc.constantFrom('i32', 'i64', 'f32', 'f64');
const SIG = fc.record({ params: fc.array(VALT, { maxLength: 4 }), results: fc.array(VALT, { maxLength: 2 }) });
const NAME = fc.string({ unit: 'binary', maxLength: 12 });
const IMPORT = fc.oneof(
  fc.record({ kind: fc.constant('function' as const), sig: SIG }),
  fc.record({ kind: fc.constant('global' as const), type: VALT, mut: fc.boolean() }),
  fc.record({ kind: fc.constant('table' as const) }),
);
const MODULE = fc.record({
  imports: fc.array(fc.record({ module: NAME, name: NAME, what: IMPORT }), { maxLength: 5 }),
  memory: fc.constantFrom('none', 'own', 'own-max', 'imported'),
  funcs: fc.array(SIG, { maxLength: 4 }),
  exports: fc.uniqueArray(fc.record({ name: NAME, kind: fc.constantFrom('func', 'global', 'memory', 'table'), pick: fc.nat() }), { maxLength: 6, selector: (e) => e.name }),
});

/** Any text as a WAT string: its UTF-8 bytes escaped. */
const str = (s: string) => `"${[...new TextEncoder().encode(s)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('')}"`;
const sigWat = (s: { params: string[]; results: string[] }) => `${s.params.length ? `(param ${s.params.join(' ')})` : ''} ${s.results.length ? `(result ${s.results.join(' ')})` : ''}`;

function moduleWat(m: typeof MODULE extends fc.Arbitrary<infer T> ? T : never): { text: string; funcSigs: { params: string[]; results: string[] }[] } {
  const lines: string[] = [];
  const funcSigs: { params: string[]; results: string[] }[] = [];
  let globals = 0;
  let tables = 0;
  for (const i of m.imports) {
    const what = i.what.kind === 'function' ? `(func ${sigWat(i.what.sig)})` : i.what.kind === 'global' ? `(global ${i.what.mut ? `(mut ${i.what.type})` : i.what.type})` : '(table 1 funcref)';
    if (i.what.kind === 'function') funcSigs.push(i.what.sig);
    if (i.what.kind === 'global') globals++;
    if (i.what.kind === 'table') tables++;
    lines.push(`(import ${str(i.module)} ${str(i.name)} ${what})`);
  }
  if (m.memory === 'imported') lines.push('(import "env" "memory" (memory 1 10))');
  if (m.memory === 'own') lines.push('(memory 2)');
  if (m.memory === 'own-max') lines.push('(memory 2 20)');
  for (const f of m.funcs) {
    funcSigs.push(f);
    lines.push(`(func ${sigWat(f)} unreachable)`);
  }
  const counts = { func: funcSigs.length, global: globals, memory: m.memory === 'none' ? 0 : 1, table: tables };
  for (const e of m.exports) if (counts[e.kind]) lines.push(`(export ${str(e.name)} (${e.kind} ${e.pick % counts[e.kind]}))`);
  return { text: `(module ${lines.join('\n')})`, funcSigs };
}

describe('readWasmShape against WebAssembly.Module (fast-check, modules from WAT via wabt)', () => {
  it('the same export and import names and kinds, in order; function signatures as generated', async () => {
    await fc.assert(
      fc.asyncProperty(MODULE, async (m) => {
        const { text, funcSigs } = moduleWat(m);
        const bytes = await wat(text);
        const mod = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
        const shape = readWasmShape(bytes);
        expect(shape.exports.map((e) => ({ name: e.name, kind: e.kind }))).toEqual(WebAssembly.Module.exports(mod));
        expect(shape.imports.map((i) => ({ module: i.module, name: i.name, kind: i.kind }))).toEqual(WebAssembly.Module.imports(mod));
        for (const [k, i] of shape.imports.filter((i) => i.kind === 'function').entries()) expect({ params: i.params, results: i.results }).toEqual(funcSigs[k]);
        const sec = readSections(bytes);
        for (const e of shape.exports.filter((e) => e.kind === 'function')) {
          const idx = sec.exports.find((x) => x.name === e.name)!.index;
          expect({ params: e.params, results: e.results }).toEqual(funcSigs[idx]);
        }
        expect(shape.memory).toEqual(
          m.memory === 'none' ? null : m.memory === 'imported' ? { initialPages: 1, maxPages: 10, imported: true } : { initialPages: 2, maxPages: m.memory === 'own-max' ? 20 : null, imported: false },
        );
      }),
      { numRuns: 200 },
    );
  });
});
