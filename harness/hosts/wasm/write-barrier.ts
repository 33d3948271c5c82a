// The write barrier: a copy of the pack rewritten at load so that every write
// into linear memory that touches the host-held hull is recorded. The checked
// host then verifies, after a call, only the held blocks that the written
// range intersects (none when nothing was written there), instead of every
// held byte after every call, and still sees every write: the rewritten code
// is the only thing that writes the pack's memory between the host's own
// writes (the imports the host provides never write it).
//
// Before every store (all widths, i32/i64/f32/f64, v128 and its lane stores,
// atomic stores, read-modify-writes and cmpxchg) and every memory.fill,
// memory.copy and memory.init, the written range is compared with two
// mutable globals holding a window around the hull of the watched bytes (see
// check()); on a hit a helper function widens the written range [first,
// last] and raises a hit flag. The host drives
// it through exported functions (a JS-to-wasm call of a one-instruction
// export costs ~2 ns, a WebAssembly.Global value read ~13 ns, measured on
// this machine's Node 20).
//
// Why a byte-level rewrite of the code section, not binaryen: binaryen.js is
// 14 MB of JavaScript; importing it took 0.43 s in plain Node and 6.8 s
// through tsx (which the tests and a checkout's CLI run under), against a
// whole battery of ~2.3 s. And a binaryen round trip re-encodes every
// function, where this pass copies every byte of the pack as the compiler
// wrote it and only inserts the checks before the write sites, so the
// instrumented pack differs from the original in nothing but the checks.
//
// Why the stack operands go into fresh locals first: at the byte level a
// store's operands are already evaluated when its opcode comes, so keeping
// the evaluation order is free; the check reads the address from a local and
// puts address and value back exactly as they were.
//
// Why ranges are inclusive ([first, last], not [first, end)): for a store
// that does not trap, first + size - 1 < 2^32, while first + size can be
// 2^32 at the top of a 4 GiB memory and wrap to 0 in i32 arithmetic, which
// would hide the write. A store whose address arithmetic wraps traps and
// writes nothing, so whatever its check says (at worst a spurious hit, which
// only costs a verification) does not matter.
//
// What is refused (the host then verifies every held block after every call,
// as without the barrier; never less): anything this reader does not know
// how to classify as write or no-write (exception handling, GC and
// typed-function-reference instructions, relaxed SIMD, unknown prefixes or
// section ids), more than one memory, a 64-bit memory, multi-memory memargs,
// no memory at all, and an export name the barrier would take.

/** The exports the barrier adds. No property sees them: the host takes only the ABI's exports by name, and the survey reads the original bytes. */
export const BARRIER_EXPORTS = {
  hull: '__packcheck_barrier_hull',
  hit: '__packcheck_barrier_hit',
  first: '__packcheck_barrier_first',
  last: '__packcheck_barrier_last',
  reset: '__packcheck_barrier_reset',
} as const;

export type BarrierRewrite = { bytes: Uint8Array; writeSites: number } | { refused: string };

/** A compiled instrumented pack, ready for the checked host (`HostOptions.barrier`). */
export interface WriteBarrier {
  module: WebAssembly.Module;
  writeSites: number;
}

/** The rewrite, compiled; or why the pack keeps full verification. */
export async function compileWriteBarrier(bytes: Uint8Array): Promise<WriteBarrier | { refused: string }> {
  const r = addWriteBarrier(bytes);
  if ('refused' in r) return r;
  try {
    return { module: await WebAssembly.compile(r.bytes as Uint8Array<ArrayBuffer>), writeSites: r.writeSites };
  } catch (e) {
    // A rewrite V8 rejects is a defect of the rewriter; the check itself must not suffer for it.
    return { refused: `the instrumented module does not compile (${(e as Error).message})` };
  }
}

/** The host's side of an instantiated barrier: the hull, and what was written into it. */
export interface BarrierControl {
  /**
   * Sets the window [lo, lo + span) a write must meet to count; span 0 (and
   * lo 0xffffffff, so a bulk write never starts below it) is empty. For a
   * hull [first, last] of watched bytes the host sets lo = first - 15
   * (clamped at 0: a store of up to 16 bytes starting that low can reach
   * `first`) and span = last - lo + 1.
   */
  hull(lo: number, span: number): void;
  /** 1 when a write touched the hull since the last reset. */
  hit(): number;
  /** The lowest and highest written byte within the hull's writes (u32 in i32 form). */
  first(): number;
  last(): number;
  reset(): void;
}

/**
 * The window for the watched bytes [lo, last] (null when nothing is
 * watched): it starts 15 bytes lower, where a 16-byte store that reaches lo
 * can start. Null span: the window would be all 4 GiB, which an i32 cannot
 * say; the host then verifies everything.
 */
export function hullWindow(lo: number, last: number): { lo: number; span: number } | null {
  if (lo > last) return null;
  const start = Math.max(lo - 15, 0);
  return { lo: start, span: last - start + 1 };
}

/** The span the window's global can hold. */
export const MAX_SPAN = 0xffffffff;

export function barrierControl(instance: WebAssembly.Instance): BarrierControl {
  const e = instance.exports as Record<string, unknown>;
  const fns = Object.values(BARRIER_EXPORTS).map((n) => e[n]);
  if (!fns.every((f) => typeof f === 'function')) throw new Error('the write barrier exports are missing from the instrumented module');
  const [hull, hit, first, last, reset] = fns as [(lo: number, last: number) => void, () => number, () => number, () => number, () => void];
  return { hull, hit, first, last, reset };
}

class Refused extends Error {}

// Value types, as encoded.
const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;
const SIMPLE_VALTYPES = new Set([I32, I64, F32, F64, V128, 0x70, 0x6f]);

class Reader {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
  }
  u8(): number {
    if (this.pos >= this.b.length) throw new Refused('the module ends inside a section');
    return this.b[this.pos++]!;
  }
  /** Unsigned LEB128 up to 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Refused('an over-long LEB128 number');
    }
  }
  /** Skips a signed LEB128 of at most `bits` bits; the value is not needed. */
  sleb(bits: number): void {
    for (let n = 0; ; n++) {
      if ((this.u8() & 0x80) === 0) return;
      if (n * 7 > bits) throw new Refused('an over-long LEB128 number');
    }
  }
  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.b.length) throw new Refused('the module ends inside a section');
  }
}

class Writer {
  private buf = new Uint8Array(1024);
  length = 0;
  byte(v: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = v;
  }
  u32(v: number): void {
    let x = v >>> 0;
    do {
      const byte = x & 0x7f;
      x = Math.floor(x / 128);
      this.byte(x === 0 ? byte : byte | 0x80);
    } while (x !== 0);
  }
  s32(v: number): void {
    let x = v | 0;
    for (;;) {
      const byte = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
      this.byte(done ? byte : byte | 0x80);
      if (done) return;
    }
  }
  bytes(src: Uint8Array): void {
    if (this.length + src.length > this.buf.length) this.grow(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  done(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  private grow(need: number): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + need));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

// Opcodes the emitted checks use.
const OP = {
  if: 0x04,
  end: 0x0b,
  call: 0x10,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Or: 0x72,
  i32And: 0x71,
  i32Ne: 0x47,
  void: 0x40,
} as const;

/** The added globals, in order after the pack's own. */
const G_LO = 0;
const G_SPAN = 1;
const G_HIT = 2;
const G_WFIRST = 3;
const G_WLAST = 4;
const GLOBAL_INITS = [-1, 0, 0, -1, 0]; // empty window, nothing written

/** What a write site writes: value operands (type, count) and width in bytes; width 0 = a bulk op with the size as its third operand. */
interface WriteSite {
  valtype: number;
  values: number;
  width: number;
  offset: number;
}

/** Widths of the i32, i64, i32 8, i32 16, i64 8, i64 16, i64 32 variants, in the order the atomic RMW groups use. */
const RMW_VARIANTS: [number, number][] = [
  [I32, 4],
  [I64, 8],
  [I32, 1],
  [I32, 2],
  [I64, 1],
  [I64, 2],
  [I64, 4],
];

const PLAIN_STORES: Record<number, [number, number]> = {
  0x36: [I32, 4],
  0x37: [I64, 8],
  0x38: [F32, 4],
  0x39: [F64, 8],
  0x3a: [I32, 1],
  0x3b: [I32, 2],
  0x3c: [I64, 1],
  0x3d: [I64, 2],
  0x3e: [I64, 4],
};

const SIMD_LANE_STORES: Record<number, number> = { 88: 1, 89: 2, 90: 4, 91: 8 };

interface ModuleFacts {
  /** Parameter count of each type. */
  typeParams: number[];
  importedFuncs: number;
  importedGlobals: number;
  memories: number;
  /** Type index of each defined function. */
  funcTypes: number[];
  definedGlobals: number;
  exportNames: string[];
}

interface Section {
  id: number;
  start: number;
  end: number;
}

/** Section order of the spec (custom sections aside), to place the sections the barrier may have to create. */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

export function addWriteBarrier(bytes: Uint8Array): BarrierRewrite {
  try {
    return rewrite(bytes);
  } catch (e) {
    if (e instanceof Refused) return { refused: e.message };
    throw e;
  }
}

function rewrite(bytes: Uint8Array): { bytes: Uint8Array; writeSites: number } {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d || bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new Refused('not a version-1 WebAssembly binary');
  }
  const sections: Section[] = [];
  const r = new Reader(bytes, 8);
  while (r.pos < bytes.length) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    if (id !== 0 && !ORDER.includes(id)) throw new Refused(`section id ${id}, which the write barrier does not know`);
    if (id === 13) throw new Refused('a tag section (exception handling), which the write barrier does not handle');
    sections.push({ id, start, end: r.pos });
  }
  const facts = readFacts(bytes, sections);
  if (facts.memories === 0) throw new Refused('the module has no memory');
  if (facts.memories > 1) throw new Refused('the module has more than one memory');
  for (const n of Object.values(BARRIER_EXPORTS)) if (facts.exportNames.includes(n)) throw new Refused(`the module already exports "${n}"`);
  const code = sections.find((s) => s.id === 10);
  if (!code || !sections.some((s) => s.id === 1)) throw new Refused('the module has no code');

  const firstGlobal = facts.importedGlobals + facts.definedGlobals;
  const wroteFn = facts.importedFuncs + facts.funcTypes.length;
  const typeBase = facts.typeParams.length;
  // Added types: (i32, i32) -> (), () -> i32, () -> ().
  const T_PAIR = typeBase;
  const T_GET = typeBase + 1;
  const T_VOID = typeBase + 2;
  const addedFuncTypes = [T_PAIR, T_PAIR, T_GET, T_GET, T_GET, T_VOID]; // wrote, hull, hit, first, last, reset

  const out = new Writer();
  out.bytes(bytes.subarray(0, 8));
  const emitted = new Set<number>();
  const section = (id: number, content: Uint8Array) => {
    out.byte(id);
    out.u32(content.length);
    out.bytes(content);
    emitted.add(id);
  };
  const created = (id: number): Uint8Array | null => {
    if (id === 6) return globalSection(null);
    if (id === 7) return exportSection(null, wroteFn);
    return null;
  };
  /** Sections the module lacks and the barrier needs, placed before the first known section that follows them. */
  const placeMissingBefore = (id: number) => {
    for (const m of [6, 7]) {
      if (emitted.has(m) || sections.some((s) => s.id === m)) continue;
      if (id === -1 || ORDER.indexOf(m) < ORDER.indexOf(id)) section(m, created(m)!);
    }
  };
  let writeSites = 0;
  for (const s of sections) {
    if (s.id !== 0) placeMissingBefore(s.id);
    const body = bytes.subarray(s.start, s.end);
    if (s.id === 1) section(1, appendToVector(body, [pairType(), getType(), voidType()]));
    else if (s.id === 3) section(3, appendToVector(body, addedFuncTypes.map(u32Bytes)));
    else if (s.id === 6) section(6, globalSection(body));
    else if (s.id === 7) section(7, exportSection(body, wroteFn));
    else if (s.id === 10) {
      const c = codeSection(bytes, s, facts, firstGlobal, wroteFn);
      writeSites = c.writeSites;
      section(10, c.content);
    } else if (s.id === 0) {
      out.byte(0);
      out.u32(body.length);
      out.bytes(body);
    } else section(s.id, body);
  }
  placeMissingBefore(-1);
  return { bytes: out.done().slice(), writeSites };
}

function u32Bytes(v: number): Uint8Array {
  const w = new Writer();
  w.u32(v);
  return w.done().slice();
}
const pairType = () => new Uint8Array([0x60, 2, I32, I32, 0]);
const getType = () => new Uint8Array([0x60, 0, 1, I32]);
const voidType = () => new Uint8Array([0x60, 0, 0]);

/** A vector section's content with more entries at its end. */
function appendToVector(content: Uint8Array, entries: Uint8Array[]): Uint8Array {
  const r = new Reader(content);
  const count = r.u32();
  const w = new Writer();
  w.u32(count + entries.length);
  w.bytes(content.subarray(r.pos));
  for (const e of entries) w.bytes(e);
  return w.done().slice();
}

function globalSection(content: Uint8Array | null): Uint8Array {
  const entries = GLOBAL_INITS.map((v) => {
    const w = new Writer();
    w.byte(I32);
    w.byte(1); // mutable
    w.byte(OP.i32Const);
    w.s32(v);
    w.byte(OP.end);
    return w.done().slice();
  });
  return appendToVector(content ?? new Uint8Array([0]), entries);
}

function exportSection(content: Uint8Array | null, wroteFn: number): Uint8Array {
  const entries = Object.values(BARRIER_EXPORTS).map((name, i) => {
    const w = new Writer();
    w.name(name);
    w.byte(0); // a function
    w.u32(wroteFn + 1 + i);
    return w.done().slice();
  });
  return appendToVector(content ?? new Uint8Array([0]), entries);
}

function readLimits(r: Reader, what: 'memory' | 'table'): void {
  const flags = r.u8();
  if (what === 'memory' && flags & 0x04) throw new Refused('a 64-bit memory');
  if (flags > 0x07) throw new Refused(`limits flags 0x${flags.toString(16)}`);
  r.u32();
  if (flags & 0x01) r.u32();
}

function readValtype(r: Reader): number {
  const t = r.u8();
  if (!SIMPLE_VALTYPES.has(t)) throw new Refused(`value type 0x${t.toString(16)} (typed references or GC), which the write barrier does not handle`);
  return t;
}

function readFacts(bytes: Uint8Array, sections: Section[]): ModuleFacts {
  const f: ModuleFacts = { typeParams: [], importedFuncs: 0, importedGlobals: 0, memories: 0, funcTypes: [], definedGlobals: 0, exportNames: [] };
  for (const s of sections) {
    const r = new Reader(bytes, s.start);
    if (s.id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const form = r.u8();
        if (form !== 0x60) throw new Refused(`type form 0x${form.toString(16)} (GC types), which the write barrier does not handle`);
        const params = r.u32();
        for (let i = 0; i < params; i++) readValtype(r);
        for (let results = r.u32(); results > 0; results--) readValtype(r);
        f.typeParams.push(params);
      }
    } else if (s.id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        r.skip(r.u32()); // module name
        r.skip(r.u32()); // field name
        const kind = r.u8();
        if (kind === 0) {
          r.u32();
          f.importedFuncs++;
        } else if (kind === 1) {
          readValtype(r);
          readLimits(r, 'table');
        } else if (kind === 2) {
          readLimits(r, 'memory');
          f.memories++;
        } else if (kind === 3) {
          readValtype(r);
          r.u8();
          f.importedGlobals++;
        } else throw new Refused(`an import of kind ${kind} (a tag), which the write barrier does not handle`);
      }
    } else if (s.id === 3) {
      for (let n = r.u32(); n > 0; n--) f.funcTypes.push(r.u32());
    } else if (s.id === 5) {
      for (let n = r.u32(); n > 0; n--) {
        readLimits(r, 'memory');
        f.memories++;
      }
    } else if (s.id === 6) {
      f.definedGlobals = r.u32();
    } else if (s.id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const len = r.u32();
        f.exportNames.push(new TextDecoder().decode(bytes.subarray(r.pos, r.pos + len)));
        r.skip(len);
        r.u8();
        r.u32();
      }
    }
  }
  return f;
}

function codeSection(bytes: Uint8Array, s: Section, facts: ModuleFacts, firstGlobal: number, wroteFn: number): { content: Uint8Array; writeSites: number } {
  const r = new Reader(bytes, s.start);
  const count = r.u32();
  if (count !== facts.funcTypes.length) throw new Refused('the code and function sections disagree');
  const w = new Writer();
  w.u32(count + 6);
  let writeSites = 0;
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    const params = facts.typeParams[facts.funcTypes[i]!];
    if (params === undefined) throw new Refused(`function ${i} has an unknown type`);
    const body = new BodyRewriter(bytes, r.pos, end, params, firstGlobal, wroteFn, facts.importedFuncs + i);
    const out = body.run();
    writeSites += body.writeSites;
    w.u32(out.length);
    w.bytes(out);
    r.pos = end;
  }
  for (const helper of helperBodies(firstGlobal)) {
    w.u32(helper.length);
    w.bytes(helper);
  }
  return { content: w.done().slice(), writeSites };
}

/** wrote(first, last), hull(lo, span), hit(), first(), last(), reset(). */
function helperBodies(g0: number): Uint8Array[] {
  const body = (emit: (w: Writer) => void) => {
    const w = new Writer();
    w.u32(0); // no locals
    emit(w);
    w.byte(OP.end);
    return w.done().slice();
  };
  const op = (w: Writer, o: number, idx?: number) => {
    w.byte(o);
    if (idx !== undefined) w.u32(idx);
  };
  const widen = (w: Writer, param: number, global: number, cmp: number) => {
    op(w, OP.localGet, param);
    op(w, OP.globalGet, g0 + global);
    op(w, cmp);
    op(w, OP.if);
    w.byte(OP.void);
    op(w, OP.localGet, param);
    op(w, OP.globalSet, g0 + global);
    op(w, OP.end);
  };
  const setConst = (w: Writer, global: number, v: number) => {
    op(w, OP.i32Const);
    w.s32(v);
    op(w, OP.globalSet, g0 + global);
  };
  return [
    body((w) => {
      widen(w, 0, G_WFIRST, OP.i32LtU);
      widen(w, 1, G_WLAST, OP.i32GtU);
      setConst(w, G_HIT, 1);
    }),
    body((w) => {
      op(w, OP.localGet, 0);
      op(w, OP.globalSet, g0 + G_LO);
      op(w, OP.localGet, 1);
      op(w, OP.globalSet, g0 + G_SPAN);
    }),
    body((w) => op(w, OP.globalGet, g0 + G_HIT)),
    body((w) => op(w, OP.globalGet, g0 + G_WFIRST)),
    body((w) => op(w, OP.globalGet, g0 + G_WLAST)),
    body((w) => {
      setConst(w, G_WFIRST, -1);
      setConst(w, G_WLAST, 0);
      setConst(w, G_HIT, 0);
    }),
  ];
}

/** V8's limit on locals per function. */
const MAX_LOCALS = 50_000;

/**
 * One function body: its locals with the barrier's appended, and its code
 * with a check before every write. Every instruction is decoded (to find the
 * next opcode) and copied as it was.
 */
class BodyRewriter {
  writeSites = 0;
  private readonly r: Reader;
  private readonly w = new Writer();
  /** Added locals by role, in order of first use. */
  private readonly added = new Map<string, { index: number; type: number }>();
  private firstAdded = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
    private readonly params: number,
    private readonly g0: number,
    private readonly wroteFn: number,
    private readonly funcIndex: number,
  ) {
    this.r = new Reader(bytes, start);
  }

  run(): Uint8Array {
    const r = this.r;
    let declared = 0;
    const groups = r.u32();
    const groupsStart = r.pos;
    for (let i = 0; i < groups; i++) {
      declared += r.u32();
      readValtype(r);
    }
    const codeStart = r.pos;
    this.firstAdded = this.params + declared;
    while (r.pos < this.end) this.instruction();
    if (r.pos !== this.end) throw new Refused(`function ${this.funcIndex}'s code overruns its body`);
    if (this.firstAdded + this.added.size > MAX_LOCALS) throw new Refused(`function ${this.funcIndex} would have more than ${MAX_LOCALS} locals`);
    const out = new Writer();
    out.u32(groups + this.added.size);
    out.bytes(this.bytes.subarray(groupsStart, codeStart));
    for (const { type } of this.added.values()) {
      out.u32(1);
      out.byte(type);
    }
    out.bytes(this.w.done());
    return out.done().slice();
  }

  private local(role: string, type: number): number {
    let l = this.added.get(role);
    if (!l) {
      l = { index: this.firstAdded + this.added.size, type };
      this.added.set(role, l);
    }
    return l.index;
  }

  private memarg(): number {
    const align = this.r.u32();
    if (align & 0x40) throw new Refused(`function ${this.funcIndex} addresses a memory by index (multi-memory)`);
    return this.r.u32();
  }

  private memidx(): void {
    if (this.r.u32() !== 0) throw new Refused(`function ${this.funcIndex} uses a memory other than memory 0`);
  }

  /** Decodes one instruction; a write gets its check emitted before it. Copies the instruction's bytes. */
  private instruction(): void {
    const r = this.r;
    const at = r.pos;
    const op = r.u8();
    let site: WriteSite | null = null;
    if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1 || (op >= 0x45 && op <= 0xc4)) {
      // no immediates
    } else if (op >= 0x02 && op <= 0x04) r.sleb(33); // block type
    else if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0xd2 || (op >= 0x20 && op <= 0x26)) r.u32();
    else if (op === 0x0e) {
      for (let n = r.u32(); n >= 0; n--) r.u32(); // the targets and the default
    } else if (op === 0x11 || op === 0x13) {
      r.u32();
      r.u32();
    } else if (op === 0x1c) {
      for (let n = r.u32(); n > 0; n--) readValtype(r);
    } else if (op >= 0x28 && op <= 0x35) this.memarg();
    else if (op >= 0x36 && op <= 0x3e) {
      const [valtype, width] = PLAIN_STORES[op]!;
      site = { valtype, values: 1, width, offset: this.memarg() };
    } else if (op === 0x3f || op === 0x40) this.memidx();
    else if (op === 0x41) r.sleb(32);
    else if (op === 0x42) r.sleb(64);
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op === 0xd0) {
      const t = r.u8();
      if (t !== 0x70 && t !== 0x6f) throw new Refused(`function ${this.funcIndex}: ref.null of heap type 0x${t.toString(16)}`);
    } else if (op === 0xfc) site = this.miscPrefix();
    else if (op === 0xfd) site = this.simdPrefix();
    else if (op === 0xfe) site = this.atomicPrefix();
    else throw new Refused(`function ${this.funcIndex} has opcode 0x${op.toString(16)} at byte ${at}, which the write barrier does not classify as a write or not`);
    if (site) this.check(site);
    this.w.bytes(this.bytes.subarray(at, r.pos));
  }

  private miscPrefix(): WriteSite | null {
    const r = this.r;
    const sub = r.u32();
    if (sub <= 7) return null; // saturating truncations
    if (sub === 8) {
      r.u32();
      this.memidx();
      return { valtype: I32, values: 2, width: 0, offset: 0 }; // memory.init: dest, source offset, size
    }
    if (sub === 10) {
      this.memidx();
      this.memidx();
      return { valtype: I32, values: 2, width: 0, offset: 0 }; // memory.copy: dest, source, size
    }
    if (sub === 11) {
      this.memidx();
      return { valtype: I32, values: 2, width: 0, offset: 0 }; // memory.fill: dest, value, size
    }
    if (sub === 9 || sub === 13 || (sub >= 15 && sub <= 17)) r.u32();
    else if (sub === 12 || sub === 14) {
      r.u32();
      r.u32();
    } else throw new Refused(`function ${this.funcIndex} has instruction 0xfc ${sub}, which the write barrier does not classify`);
    return null;
  }

  private simdPrefix(): WriteSite | null {
    const r = this.r;
    const sub = r.u32();
    if (sub > 0xff) throw new Refused(`function ${this.funcIndex} has SIMD instruction ${sub} (relaxed SIMD), which the write barrier does not classify`);
    if (sub <= 10 || sub === 92 || sub === 93) this.memarg(); // loads
    else if (sub === 11) return { valtype: V128, values: 1, width: 16, offset: this.memarg() };
    else if (sub === 12 || sub === 13) r.skip(16); // v128.const, i8x16.shuffle
    else if (sub >= 21 && sub <= 34) r.skip(1); // lane index
    else if (sub >= 84 && sub <= 91) {
      const offset = this.memarg();
      r.skip(1);
      const width = SIMD_LANE_STORES[sub];
      if (width) return { valtype: V128, values: 1, width, offset };
    }
    // Every other SIMD opcode of the final proposal takes no immediate; V8 compiled the module, so it knows them all.
    return null;
  }

  private atomicPrefix(): WriteSite | null {
    const r = this.r;
    const sub = r.u32();
    if (sub === 3) {
      r.skip(1); // atomic.fence
      return null;
    }
    if (sub <= 2 || (sub >= 0x10 && sub <= 0x16)) {
      this.memarg(); // notify, waits, loads: no write
      return null;
    }
    if (sub >= 0x17 && sub <= 0x1d) {
      const [valtype, width] = RMW_VARIANTS[sub - 0x17]!; // the atomic stores come in the same order
      return { valtype, values: 1, width, offset: this.memarg() };
    }
    if (sub >= 0x1e && sub <= 0x4e) {
      const [valtype, width] = RMW_VARIANTS[(sub - 0x1e) % 7]!;
      return { valtype, values: sub >= 0x48 ? 2 : 1, width, offset: this.memarg() };
    }
    throw new Refused(`function ${this.funcIndex} has atomic instruction 0xfe ${sub}, which the write barrier does not classify`);
  }

  /**
   * Stack on entry: address, then `values` operands (of a store: the value;
   * of a bulk op: its second operand, then the size). Leaves it the same.
   *
   * A store of s <= 16 bytes at `first` touches the hull [lo, last] only if
   * first lies in [lo - 15, last], the window [LO, LO + SPAN) the host sets:
   * one subtraction and one unsigned compare. A bulk op [d, d + n) meets the
   * window iff d lies in it or LO lies in [d, d + n): two compares. Both
   * over-approximate (a spurious hit costs one verification, never a miss).
   */
  private check(site: WriteSite): void {
    this.writeSites++;
    const w = this.w;
    const op = (o: number, idx?: number) => {
      w.byte(o);
      if (idx !== undefined) w.u32(idx);
    };
    const bulk = site.width === 0;
    const g = this.g0;
    // The operands above the address, last first.
    const held: number[] = [];
    if (bulk) {
      held.push(this.local('size', I32), this.local('bulk-operand', I32));
    } else {
      for (let v = site.values; v > 0; v--) held.push(this.local(`value-${site.valtype}-${v}`, site.valtype));
    }
    for (const l of held) op(OP.localSet, l);
    const addr = this.local('address', I32);
    op(OP.localTee, addr);
    let first = addr;
    if (site.offset !== 0) {
      op(OP.i32Const);
      w.s32(site.offset | 0);
      op(OP.i32Add);
      first = this.local('first', I32);
      op(OP.localTee, first);
    }
    // first - LO <u SPAN: first lies in the window.
    op(OP.globalGet, g + G_LO);
    op(OP.i32Sub);
    op(OP.globalGet, g + G_SPAN);
    op(OP.i32LtU);
    if (bulk) {
      // LO - first <u size: the window starts inside the written range.
      op(OP.globalGet, g + G_LO);
      op(OP.localGet, first);
      op(OP.i32Sub);
      op(OP.localGet, held[0]!);
      op(OP.i32LtU);
      op(OP.i32Or);
      // A zero-length fill, copy or init writes nothing.
      op(OP.localGet, held[0]!);
      op(OP.i32Const);
      w.s32(0);
      op(OP.i32Ne);
      op(OP.i32And);
    }
    op(OP.if);
    w.byte(OP.void);
    op(OP.localGet, first);
    op(OP.localGet, first);
    if (bulk) {
      op(OP.localGet, held[0]!);
      op(OP.i32Add);
      op(OP.i32Const);
      w.s32(1);
      op(OP.i32Sub);
    } else if (site.width > 1) {
      op(OP.i32Const);
      w.s32(site.width - 1);
      op(OP.i32Add);
    }
    op(OP.call, this.wroteFn);
    op(OP.end);
    op(OP.localGet, addr);
    for (let i = held.length - 1; i >= 0; i--) op(OP.localGet, held[i]!);
  }
}
